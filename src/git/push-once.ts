import { RollbackError } from '../core/errors.js';
import { isForRequest } from './commit-message.js';
import {
  firstParentLine,
  type GoodPlace,
  type LineCommit,
  type PushedBranch,
  type RepoCommits,
} from './commits-to-undo.js';
import { GitCommandError, type GitIn } from './git-runner.js';
import { manualSteps } from './manual-steps.js';
import { short } from './message-text.js';
import { mergeRequestUrlFor } from './remote.js';
import type { RevertSubject } from './revert-subject.js';

/** The revert branch an earlier run for this request pushed: the head it reverted and what it undid. */
interface AlreadyPushed {
  head: string;
  revertCommit: string;
  line: LineCommit[];
}

/**
 * The branch already on the remote for this request, when it is still just the bot's revert: one commit
 * carrying the request's trailer, on one parent, holding the good commit's files. Anything else there
 * (someone pushed onto it) is theirs and is not overwritten: GIT_FAILED says how to go on.
 */
export async function alreadyPushed(
  git: GitIn,
  s: RevertSubject,
  pushed: PushedBranch,
  commits: RepoCommits,
  place: GoodPlace,
): Promise<AlreadyPushed> {
  const { good } = commits;
  const ours = isForRequest(pushed.message, s.requestId) && pushed.parents.length === 1 && pushed.tree === good.tree;
  if (!ours) {
    const url = mergeRequestUrlFor(s.repo, s.base, s.branch);
    throw new RollbackError(
      'GIT_FAILED',
      `${s.branch} already exists on ${s.repo} and is no longer just the bot's revert (its tip is ${short(pushed.sha)}); nothing was overwritten.`,
      {
        hint: `Open it${url ? ` (${url})` : ''} and carry on there, or delete it (\`git push origin --delete ${s.branch}\`) and ask again.`,
      },
    );
  }
  const head = pushed.parents[0]!;
  if (head !== commits.head.sha) {
    // The base branch moved on since: what the branch undid is the line back from the head it reverted.
    return { head, revertCommit: pushed.sha, line: (await firstParentLine(git, good.sha, head)) ?? [] };
  }
  return { head, revertCommit: pushed.sha, line: place.on === 'line' ? place.line : [] };
}

/**
 * Pushes the revert commit as the new branch. A refusal (permissions, a hook, protection) is
 * PROVIDER_REJECTED; anything else on the way is PROVIDER_UNAVAILABLE and worth another try.
 */
export async function pushRevert(
  git: GitIn,
  s: RevertSubject,
  commit: string,
  manual: { good: string; merges: boolean },
): Promise<void> {
  try {
    await git(['push', '--progress', '--no-verify', 'origin', `${commit}:refs/heads/${s.branch}`], { network: true });
  } catch (error) {
    if (!(error instanceof GitCommandError) || error.kind !== 'exit') throw error;
    const refused = /rejected\]|declined|denied|protected|not allowed|permission|forbidden|40[13]/i.test(error.reason);
    throw new RollbackError(
      refused ? 'PROVIDER_REJECTED' : 'PROVIDER_UNAVAILABLE',
      `${s.repo} ${refused ? 'refused' : 'did not take'} the revert branch ${s.branch}: ${error.reason}`,
      {
        hint: `The bot's local branch is gone. ${refused ? 'Fix what the remote says (permissions, a hook)' : 'Check the worker can reach the git host'}, then ask again, or by hand:\n${manualSteps(s, short(manual.good), { merges: manual.merges })}`,
        retryable: !refused,
        details: { reason: error.reason },
        cause: error,
      },
    );
  }
}
