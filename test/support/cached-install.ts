/**
 * Binaries the tests fetch or extract once per version into node_modules/.cache/: test files run in parallel
 * forks, so the work goes to a private temp directory that is renamed into place, and whoever loses the rename
 * race uses the winner's copy.
 */
import { randomBytes } from 'node:crypto';
import { access, constants as fsConstants, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export async function executable(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Fills `cacheDir` by `fill(tmp)` unless every one of `files` (paths inside it) is executable already. */
export async function installOnce(
  cacheDir: string,
  files: readonly string[],
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  const present = await Promise.all(files.map((file) => executable(path.join(cacheDir, file))));
  if (present.every(Boolean)) return;
  await mkdir(path.dirname(cacheDir), { recursive: true });
  const tmp = `${cacheDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    try {
      await rename(tmp, cacheDir);
    } catch (error) {
      // Another test process finished first: its copy is complete, ours is surplus.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
