import { COMMIT_SHA } from '../core/freeze.js';
import type { Logger } from '../log.js';
import { withEveryBranch } from './cached-clone.js';
import type { GitIn } from './git-runner.js';
import { readAccess } from './read-access.js';
import type { GitSettings } from './schema.js';

export interface ContainmentQuestion {
  settings: GitSettings;
  target: string;
  /** The revert commit a deploy must contain. */
  ancestor: string;
  /** The commit a pipeline wants to deploy (full or abbreviated sha). */
  commit: string;
  cacheDir: string;
}

/**
 * Whether `commit` contains the revert: the revert commit is the commit itself or one of its ancestors, or (a
 * revert branch merged by squash) the same change, by patch id, is in its history since the two parted. Asked
 * in the cached clone after fetching every branch, so a commit on any branch is found. Only reads.
 */
export async function containsRevert(
  question: ContainmentQuestion,
  ctx: { signal: AbortSignal; log: Logger; env?: NodeJS.ProcessEnv },
): Promise<'yes' | 'no' | 'unknown-commit'> {
  const { settings, target, ancestor, commit } = question;
  // Both reach git as arguments: only a sha may (the gate checks it too).
  if (!COMMIT_SHA.test(commit) || !COMMIT_SHA.test(ancestor)) return 'unknown-commit';
  const log = ctx.log.child({ target, component: 'git-gate' });
  const access = await readAccess(settings, question.cacheDir, { signal: ctx.signal, log, env: ctx.env });
  // Commits never change: when the clone already has both, the answer needs no fetch (a pipeline asking again).
  const bothKnown = async (git: GitIn) =>
    (await resolve(git, commit)) !== undefined && (await resolve(git, ancestor)) !== undefined;
  return withEveryBranch(
    access,
    { repo: settings.repo, base: settings.branch, target },
    async (git) => {
      const head = await resolve(git, commit);
      if (!head) return 'unknown-commit';
      const revert = await resolve(git, ancestor);
      if (!revert) return 'no';
      const ancestry = await git(['merge-base', '--is-ancestor', revert, head], { okExit: [1] });
      if (ancestry.exitCode === 0) return 'yes';
      return (await sameChangeIn(git, head, revert)) ? 'yes' : 'no';
    },
    { skipFetchIf: bothKnown },
  );
}

/** The full sha of a commit in the clone, or undefined when there is none (or an abbreviation is ambiguous). */
async function resolve(git: GitIn, sha: string): Promise<string | undefined> {
  const out = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${sha}^{commit}`], {
    okExit: [1, 128],
  });
  return out.exitCode === 0 ? out.stdout.trim() : undefined;
}

/**
 * `git cherry <head> <revert> <revert>^`: "-" when a commit in head's history (since the two parted) makes the
 * same change as the revert commit, as a squash merge of the revert branch does.
 */
async function sameChangeIn(git: GitIn, head: string, revert: string): Promise<boolean> {
  const out = await git(['cherry', head, revert, `${revert}^`], { okExit: [1, 128] });
  if (out.exitCode !== 0) return false;
  return out.stdout
    .split('\n')
    .map((line) => line.trim())
    .some((line) => line.startsWith('- '));
}
