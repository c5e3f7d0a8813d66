/**
 * The official `fastly` CLI binary, fetched on first use. Not a dependency: `@fastly/cli` pulls one
 * optional package per platform, and the registry this project is built against lacks some of them, so a
 * lock that listed it could not be installed with `npm ci`. Tests and the benchmark need only the
 * linux-x64 build (`@fastly/cli-linux-x64`, the same Go binary `@fastly/cli` would have run), so it is
 * packed from the registry once per version into `node_modules/.cache/rapid-rollback-fastly/<version>/`.
 *
 * Fetched at most once however many test files ask at the same time (cached-install.ts).
 */
import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { executable, installOnce } from './cached-install.js';

const run = promisify(execFile);

/** The version the simulator's faithfulness was proven with; change it here, deliberately. */
const FASTLY_CLI_VERSION = '16.1.0';
const PACKAGE = '@fastly/cli-linux-x64';
const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

let pending: Promise<string> | undefined;

/** The path of an executable `fastly`, downloading it the first time. */
export function fastlyCliBinary(): Promise<string> {
  pending ??= locate().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function locate(): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the fastly CLI is fetched for linux/x64 only (${PACKAGE}); this is ${process.platform}/${process.arch}`,
    );
  }
  const cacheDir = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'rapid-rollback-fastly', FASTLY_CLI_VERSION);
  await installOnce(cacheDir, ['fastly'], async (tmp) => {
    try {
      await run('npm', ['pack', `${PACKAGE}@${FASTLY_CLI_VERSION}`, '--silent', '--pack-destination', tmp], {
        cwd: tmp,
        timeout: 120_000,
      });
    } catch (error) {
      throw new Error(
        `could not fetch ${PACKAGE}@${FASTLY_CLI_VERSION} from the npm registry (the tests run the official fastly CLI): ${(error as Error).message}`,
      );
    }
    const tarball = (await readdir(tmp)).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${PACKAGE}@${FASTLY_CLI_VERSION} wrote no tarball`);
    await run('tar', ['-xzf', tarball, '--strip-components=1', 'package/fastly'], { cwd: tmp });
    await rm(path.join(tmp, tarball));
    if (!(await executable(path.join(tmp, 'fastly'))))
      throw new Error(`${PACKAGE}: no executable fastly in the package`);
  });
  return path.join(cacheDir, 'fastly');
}
