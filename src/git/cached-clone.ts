import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepReport } from '../core/types.js';
import type { Logger } from '../log.js';
import { withCloneLock } from './clone-lock.js';
import { fetchError } from './fetch-error.js';
import { GitCommandError, type GitIn, type GitRunner } from './git-runner.js';
import { cacheNameFor } from './remote.js';
import type { RevertSubject } from './revert-subject.js';

const LOCK_WAIT_MS = 120_000;

interface CloneAccess {
  runner: GitRunner;
  /** Where cached clones live (one per repository, reused). */
  cacheDir: string;
  signal: AbortSignal;
  log: Logger;
  report: (step: StepReport) => void;
}

/** The cached clone as `work` gets it. */
export interface InClone {
  git: GitIn;
  /** Called before the first command that changes the clone's files, index or HEAD. */
  changing(): void;
}

/**
 * Runs `work` in the repository's cached clone, alone in it (see withCloneLock), once the clone holds
 * the remote's `origin/<base>` and, when it is on the remote, `origin/<branch>`: both in one fetch, so
 * that whether the branch was pushed already costs no extra round trip. `work` starts detached at
 * `origin/<base>` with nothing changed, and whatever it does or throws, the clone is left so: put back
 * in order if it changed, and removed if it cannot be, so that the next request clones afresh.
 */
export async function withCachedClone<T>(
  access: CloneAccess,
  subject: RevertSubject,
  work: (clone: InClone) => Promise<T>,
): Promise<T> {
  const clone = join(access.cacheDir, cacheNameFor(subject.repo));
  return withCloneLock(clone, { signal: access.signal, waitMs: LOCK_WAIT_MS }, async () => {
    access.report({ status: 'progress', text: `Fetching ${subject.base} of ${subject.repo}` });
    // The branch by a pattern, which is no error when the remote has none.
    const fresh = await fetchInto(access, clone, subject, [
      `+refs/heads/${subject.base}:refs/remotes/origin/${subject.base}`,
      `+refs/heads/${subject.branch}*:refs/remotes/origin/${subject.branch}*`,
    ]);
    const git = access.runner.in(clone);
    // Until it is in order, and again once `work` changes it. Reads (a second call, most refusals)
    // leave it as it was, and two git processes fewer run.
    let changed = true;
    try {
      await putInOrder(git, clone, subject.base, access.log, { cleanup: false, fresh });
      changed = false;
      return await work({ git, changing: () => (changed = true) });
    } finally {
      if (changed) await putBackOrRemove(git, clone, subject.base, access.log);
    }
  });
}

async function putBackOrRemove(git: GitIn, clone: string, base: string, log: Logger): Promise<void> {
  await putInOrder(git, clone, base, log, { cleanup: true }).catch(async (error: unknown) => {
    log.warn({ err: error }, 'cached clone could not be cleaned; removing it');
    await rm(clone, { recursive: true, force: true });
  });
}

/**
 * Runs read-only `work` in the repository's cached clone, alone in it, once every branch of the remote is
 * fetched (a commit to check may be on any of them). Nothing is checked out or changed: `work` only reads.
 * `skipFetchIf`: when the clone already has what `work` needs (commits do not change once made), no fetch.
 */
export async function withEveryBranch<T>(
  access: CloneAccess,
  subject: Pick<RevertSubject, 'repo' | 'base' | 'target'>,
  work: (git: GitIn) => Promise<T>,
  options: { skipFetchIf?: (git: GitIn) => Promise<boolean> } = {},
): Promise<T> {
  const clone = join(access.cacheDir, cacheNameFor(subject.repo));
  return withCloneLock(clone, { signal: access.signal, waitMs: LOCK_WAIT_MS }, async () => {
    const git = access.runner.in(clone);
    const { skipFetchIf } = options;
    const known =
      skipFetchIf !== undefined && (await isUsable(access.runner, clone, subject.repo)) && (await skipFetchIf(git));
    if (!known) await fetchInto(access, clone, subject, ['+refs/heads/*:refs/remotes/origin/*']);
    return work(git);
  });
}

/** Fetches into the cached clone, cloning it first when there is none; true when it was cloned just now. */
async function fetchInto(
  access: CloneAccess,
  clone: string,
  subject: Pick<RevertSubject, 'repo' | 'base' | 'target'>,
  refspecs: string[],
): Promise<boolean> {
  const { runner } = access;
  const { repo, base } = subject;
  try {
    const fresh = !(await isUsable(runner, clone, repo));
    if (fresh) await cloneAfresh(runner, access.cacheDir, clone, repo, base);
    // --prune drops the clone's copy of a branch deleted since. --verbose: never silent (see GitRunner.run).
    await runner.run(clone, ['fetch', '--progress', '--verbose', '--prune', '--no-tags', 'origin', ...refspecs], {
      network: true,
    });
    return fresh;
  } catch (error) {
    if (error instanceof GitCommandError && error.kind === 'exit') throw fetchError(error, repo, base, subject.target);
    throw error;
  }
}

async function isUsable(runner: GitRunner, clone: string, repo: string): Promise<boolean> {
  if (!existsSync(join(clone, '.git'))) return false;
  return runner.run(clone, ['config', '--get', 'remote.origin.url'], { okExit: [1] }).then(
    (r) => r.stdout.trim() === repo,
    () => false,
  );
}

/** Clones into a temporary directory and renames it into place, so a clone cut short never looks cached. */
async function cloneAfresh(runner: GitRunner, cacheDir: string, clone: string, repo: string, base: string) {
  await rm(clone, { recursive: true, force: true });
  const tmp = `${clone}.tmp-${process.pid}-${Date.now()}`;
  try {
    const options = ['--progress', '--no-tags', '--single-branch', '--no-checkout', '--branch', base];
    await runner.run(cacheDir, ['clone', ...options, '--', repo, tmp], { network: true });
    // Files exactly as committed: no line-ending conversion or smudge filter (LFS) can make the
    // working tree look changed and stop a revert half-way. In place before any file is written.
    await mkdir(join(tmp, '.git', 'info'), { recursive: true });
    await writeFile(join(tmp, '.git', 'info', 'attributes'), '* -text -eol -filter -ident -working-tree-encoding\n');
    await rename(tmp, clone);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Puts the cached clone in order: detached at origin/<base>, every file as committed, no revert in
 * progress, nothing untracked, whatever a previous run (or a worker that died) left. The revert commit
 * is made on the detached HEAD, so no local branch is ever left behind. A clone just made has nothing
 * to clean.
 */
async function putInOrder(
  git: GitIn,
  clone: string,
  base: string,
  log: Logger,
  opts: { cleanup: boolean; fresh?: boolean },
): Promise<void> {
  const run = (args: string[]) => git(args, { cleanup: opts.cleanup });
  if (existsSync(join(clone, '.git', 'sequencer')) || existsSync(join(clone, '.git', 'REVERT_HEAD'))) {
    await run(['revert', '--abort']).catch(async (error: unknown) => {
      log.debug({ err: error }, 'git revert --abort failed; quitting the revert instead');
      await run(['revert', '--quit']);
    });
  }
  // --force: the index and the files become those of origin/<base>, whatever was staged or changed.
  await run(['checkout', '--force', '--detach', `refs/remotes/origin/${base}`]);
  if (!opts.fresh) await run(['clean', '-ffdx']);
}
