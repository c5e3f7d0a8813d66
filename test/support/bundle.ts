/**
 * An entry point of src/ bundled with its dependencies into one ES module file, for tests that start it
 * as a child process many times: a process then starts in well under a second, instead of resolving
 * thousands of files in node_modules. The code is the code `npm run build` compiles; only the packaging
 * differs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Bundles `entry` (a path from the repository root, e.g. `src/main.ts`) into
 * `node_modules/.cache/<cacheDir>/main-<pid>.mjs` and returns that file; the caller removes it.
 */
export async function bundleForNode(entry: string, cacheDir: string): Promise<string> {
  const dir = join(ROOT, 'node_modules', '.cache', cacheDir);
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `main-${process.pid}.mjs`);
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // CommonJS dependencies require() Node's modules; an ES module bundle needs a require for them.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  return outfile;
}
