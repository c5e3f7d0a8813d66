import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { sleep } from '../core/abortable.js';
import { RollbackError } from '../core/errors.js';

/** A lock older than this was left by a worker that died; git work on one clone never takes this long. */
const STALE_MS = 15 * 60_000;

const inProcess = new Map<string, Promise<unknown>>();

/**
 * Runs `work` while no other revert branch is being made in the same cached clone: one at a time in
 * this process, and through a lock directory (mkdir is atomic) against other workers on the machine.
 */
export async function withCloneLock<T>(
  clonePath: string,
  options: { signal: AbortSignal; waitMs: number },
  work: () => Promise<T>,
): Promise<T> {
  const previous = inProcess.get(clonePath) ?? Promise.resolve();
  const mine = previous
    .catch(() => undefined)
    .then(async () => {
      const release = await acquire(`${clonePath}.lock`, options);
      try {
        return await work();
      } finally {
        await release();
      }
    });
  inProcess.set(clonePath, mine);
  try {
    return await mine;
  } finally {
    if (inProcess.get(clonePath) === mine) inProcess.delete(clonePath);
  }
}

async function acquire(
  lockDir: string,
  options: { signal: AbortSignal; waitMs: number },
): Promise<() => Promise<void>> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    options.signal.throwIfAborted();
    try {
      await mkdir(lockDir);
      await writeFile(`${lockDir}/owner`, `${process.pid} ${new Date().toISOString()}\n`);
      return () => rm(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const age = await stat(lockDir).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_MS) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new RollbackError(
        'PROVIDER_TIMEOUT',
        'Another revert branch is being made in the same repository right now.',
        {
          hint: 'Try again in a minute.',
          retryable: true,
          details: { lock: lockDir },
        },
      );
    }
    await sleep(100, options.signal);
  }
}
