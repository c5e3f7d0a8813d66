import { RollbackError } from '../core/errors.js';
import type { StepReport } from '../core/types.js';
import type { LineCommit } from './commits-to-undo.js';
import { GitCommandError, type GitIn } from './git-runner.js';
import { manualSteps } from './manual-steps.js';
import { short } from './message-text.js';
import type { RevertSubject } from './revert-subject.js';

interface RevertInput {
  good: { sha: string; tree: string };
  head: string;
  /** The commits to undo, newest first. */
  line: LineCommit[];
  message: string;
}

/**
 * Undoes `line` in the clone (detached at head, clean) and commits the result on the detached HEAD;
 * returns the commit. Throws, before anything can be pushed, when git stops on a file or the files are
 * not exactly the good commit's.
 *
 * On a line without merges the revert is the runbook's range; with merge commits each is reverted
 * against its first parent (`-m 1`), which the plain range cannot do. Reverting newest first on a clean
 * clone, each revert applies to exactly the files it undoes, so the result is the good commit's files;
 * that is checked before the commit is returned.
 */
export async function makeRevertCommit(
  git: GitIn,
  s: RevertSubject,
  input: RevertInput,
  report: (step: StepReport) => void,
): Promise<string> {
  const { good, line } = input;
  const merges = line.some((c) => c.merge);
  report({ status: 'progress', text: `Reverting ${line.length} commit${line.length === 1 ? '' : 's'} on ${s.branch}` });
  const revertArgs = merges
    ? ['revert', '--no-commit', '-m', '1', ...line.map((c) => c.sha)]
    : ['revert', '--no-commit', `${good.sha}..${input.head}`];
  try {
    // Given a network call's patience: hundreds of commits on a large tree take a while, silently.
    await git(revertArgs, { network: true });
  } catch (error) {
    if (!(error instanceof GitCommandError) || error.kind !== 'exit') throw error;
    throw await conflictError(git, s, good.sha, merges, error);
  }
  // --allow-empty: a revert that changed nothing still reaches the check below and its message.
  await git(['commit', '--no-verify', '--allow-empty', '-m', input.message]);
  const [commit = '', tree = ''] = (await git(['rev-parse', 'HEAD', 'HEAD^{tree}'])).stdout.split('\n');
  if (tree !== good.tree) {
    throw new RollbackError(
      'GIT_FAILED',
      `Reverting ${line.length} commits did not give back exactly the files of ${s.to.label} (${short(good.sha)}); nothing was pushed.`,
      {
        hint: `Revert by hand and compare with \`git diff ${short(good.sha)}\` before you push:\n${manualSteps(s, short(good.sha), { merges })}`,
      },
    );
  }
  return commit;
}

async function conflictError(
  git: GitIn,
  s: RevertSubject,
  good: string,
  merges: boolean,
  error: GitCommandError,
): Promise<RollbackError> {
  const files = await conflictingFiles(git, error.stderr);
  return new RollbackError(
    'GIT_FAILED',
    `Could not revert ${s.target}'s repository to ${s.to.label} (${short(good)}) automatically: ${files.length ? `git stopped on ${files.join(', ')}` : error.reason}. Nothing was pushed.`,
    {
      hint: `By hand, resolving ${files.length ? files.join(', ') : 'what git reports'} before the commit:\n${manualSteps(s, short(good), { merges, conflicts: true })}`,
      details: { files, reason: error.reason },
      cause: error,
    },
  );
}

/** Files git stopped on: unmerged paths, or those it would not overwrite. */
async function conflictingFiles(git: GitIn, stderr: string): Promise<string[]> {
  const unmerged = (
    await git(['diff', '--name-only', '--diff-filter=U'], { cleanup: true }).catch(() => ({ stdout: '' }))
  ).stdout;
  const files = new Set(
    unmerged
      .split('\n')
      .map((f) => f.trim())
      .filter(Boolean),
  );
  const blocked = /would be overwritten by (?:merge|checkout):\n((?:\t.+\n?)+)/.exec(stderr);
  for (const f of blocked?.[1]?.split('\n') ?? []) if (f.trim()) files.add(f.trim());
  for (const m of stderr.matchAll(/^CONFLICT \([^)]*\): .*? in (\S+)/gm)) if (m[1]) files.add(m[1]);
  return [...files];
}
