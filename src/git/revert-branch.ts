import { mkdir } from 'node:fs/promises';
import { isRollbackError, RollbackError } from '../core/errors.js';
import type { StepReport, VersionInfo } from '../core/types.js';
import type { Logger } from '../log.js';
import { checkBranchName } from './branch-name.js';
import { type InClone, withCachedClone } from './cached-clone.js';
import { commitFor, mappingSource } from './commit-mapping.js';
import { commitMessage } from './commit-message.js';
import {
  type LineCommit,
  nothingToRevert,
  notInHistory,
  onlyThroughMerge,
  placeOfGood,
  type RepoCommits,
  readCommits,
} from './commits-to-undo.js';
import { DEFAULT_GIT_TIMEOUTS, GitCommandError, GitRunner, type GitTimeouts } from './git-runner.js';
import { manualSteps } from './manual-steps.js';
import { oneLine, short } from './message-text.js';
import { alreadyPushed, pushRevert } from './push-once.js';
import { mergeRequestUrlFor } from './remote.js';
import { makeRevertCommit } from './revert-commit.js';
import type { RevertSubject } from './revert-subject.js';
import type { GitSettings } from './schema.js';

export interface RevertBranchRequest {
  settings: GitSettings;
  target: string;
  requestId: string;
  /** The rollback: from (bad, was live) → to (good, now live). */
  from: VersionInfo;
  to: VersionInfo;
  /** Where cached clones live (one per repository, reused). */
  cacheDir: string;
  /** Who the revert commit is by (the approver); the committer is always the bot. */
  author?: { name: string; email: string };
}

/**
 * A revert branch that is on the remote: open a merge request from it and redeploy (runbook step 2).
 * Every result means a branch was pushed; when there is nothing to revert the call throws
 * NOTHING_TO_ROLL_BACK instead, so an empty result can never be shown as a pushed branch.
 */
export interface RevertBranchResult {
  /** rollback/<target>-<requestId> */
  branch: string;
  goodCommit: string;
  headCommit: string;
  revertCommit: string;
  /** Commits undone, newest first (the branch's own line: a merge stands for what it brought in). */
  undone: Array<{ sha: string; subject: string }>;
  mergeRequestUrl?: string;
  /** The branch was already on the remote from an earlier call for this request; nothing new was pushed. */
  reused: boolean;
}

export interface RevertBranchContext {
  signal: AbortSignal;
  log: Logger;
  /** The worker's environment (GIT_TOKEN, GIT_SSH_COMMAND, SSH_AUTH_SOCK…); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines for the thread. */
  report?: (step: StepReport) => void;
  timeouts?: Partial<GitTimeouts>;
}

const BOT = { name: 'rapid-rollback', email: 'rapid-rollback@users.noreply.invalid' };

/** One run, as the steps after the fetch need it. */
interface Run {
  req: RevertBranchRequest;
  subject: RevertSubject;
  /** The good commit as the version names it (maybe abbreviated). */
  good: string;
  log: Logger;
  report: (step: StepReport) => void;
}

/**
 * The runbook's step 1, done for the people in the thread: in a cached clone, a branch
 * `rollback/<target>-<requestId>` from the branch head that undoes, in one commit, the commits made
 * since the good commit (see makeRevertCommit), pushed. Whatever fails, nothing half-made is pushed, the
 * clone is left clean, and the error says what to run by hand.
 *
 * Calling it again for the same request returns the branch already pushed (`reused: true`) when its tip
 * is still the bot's commit for this request, so a second click or a retried job does no harm.
 */
export async function createRevertBranch(
  req: RevertBranchRequest,
  ctx: RevertBranchContext,
): Promise<RevertBranchResult> {
  const { settings, target, requestId } = req;
  const subject: RevertSubject = {
    repo: settings.repo,
    base: settings.branch,
    branch: `rollback/${target}-${requestId}`,
    target,
    requestId,
    to: { label: req.to.label, field: mappingSource(req.to, settings).field },
  };
  const good = commitFor(req.to, settings);
  if (!good) throw unmappedVersion(req, subject);
  const log = ctx.log.child({ target, requestId, component: 'git-revert' });
  const report = ctx.report ?? (() => undefined);
  try {
    checkBranchName(subject.branch, `The revert branch name "${subject.branch}" (from the target and the request ID)`);
    checkBranchName(subject.base, `git.branch "${subject.base}" of ${target}`);
    await mkdir(req.cacheDir, { recursive: true });
    const access = { runner: runnerFor(req, ctx, log), cacheDir: req.cacheDir, signal: ctx.signal, log, report };
    return await withCachedClone(access, subject, (clone) => revertOnce(clone, { req, subject, good, log, report }));
  } catch (error) {
    throw toRevertError(error, subject, manualSteps(subject, short(good)), ctx.signal);
  }
}

/** git for this request: the approver as author, the bot as committer, the worker's credentials. */
function runnerFor(req: RevertBranchRequest, ctx: RevertBranchContext, log: Logger): GitRunner {
  return new GitRunner({
    env: ctx.env ?? process.env,
    repo: req.settings.repo,
    identity: { author: req.author ?? BOT, committer: BOT },
    signal: ctx.signal,
    log,
    timeouts: { ...DEFAULT_GIT_TIMEOUTS, ...ctx.timeouts },
  });
}

/** In the fetched clone: the branch already pushed for this request, or a new one, or why neither. */
async function revertOnce(clone: InClone, run: Run): Promise<RevertBranchResult> {
  const { git } = clone;
  const s = run.subject;
  const commits = await readCommits(git, s, run.good);
  const place = await placeOfGood(git, commits.good.sha, commits.head.sha);
  if (place.on === 'elsewhere') throw notInHistory(s, commits.good.sha);
  if (commits.pushed) {
    const pushed = await alreadyPushed(git, s, commits.pushed, commits, place);
    return branchResult(s, commits.good.sha, { ...pushed, reused: true });
  }
  if (commits.good.tree === commits.head.tree) throw nothingToRevert(s, commits);
  if (place.on === 'merge') throw onlyThroughMerge(s, commits.good.sha);
  return pushNewBranch(clone, run, commits, place.line);
}

async function pushNewBranch(
  { git, changing }: InClone,
  run: Run,
  commits: RepoCommits,
  line: LineCommit[],
): Promise<RevertBranchResult> {
  const { req, subject: s } = run;
  const { good, head } = commits;
  const undone = line.map(({ sha, subject }) => ({ sha, subject }));
  const bad = commitFor(req.from, req.settings);
  const { target, requestId, base } = s;
  const message = commitMessage({ target, requestId, base, from: req.from, to: req.to, good: good.sha, bad, undone });
  changing();
  const revertCommit = await makeRevertCommit(git, s, { good, head: head.sha, line, message }, run.report);

  run.report({ status: 'progress', text: `Pushing ${s.branch}` });
  await pushRevert(git, s, revertCommit, { good: good.sha, merges: line.some((c) => c.merge) });
  run.log.info(
    { branch: s.branch, goodCommit: good.sha, headCommit: head.sha, revertCommit, undone: undone.length },
    'revert branch pushed',
  );
  run.report({
    status: 'ok',
    text: `Pushed ${s.branch}: ${undone.length} commit${undone.length === 1 ? '' : 's'} undone`,
  });
  return branchResult(s, good.sha, { head: head.sha, revertCommit, line, reused: false });
}

function branchResult(
  s: RevertSubject,
  goodCommit: string,
  r: { head: string; revertCommit: string; line: LineCommit[]; reused: boolean },
): RevertBranchResult {
  const mergeRequestUrl = mergeRequestUrlFor(s.repo, s.base, s.branch);
  return {
    branch: s.branch,
    goodCommit,
    headCommit: r.head,
    revertCommit: r.revertCommit,
    undone: r.line.map(({ sha, subject }) => ({ sha, subject })),
    reused: r.reused,
    ...(mergeRequestUrl ? { mergeRequestUrl } : {}),
  };
}

function unmappedVersion(req: RevertBranchRequest, s: RevertSubject): RollbackError {
  const { field, value } = mappingSource(req.to, req.settings);
  const found =
    value === undefined ? `${req.to.label} has no ${field}` : `${req.to.label}'s ${field} is "${oneLine(value)}"`;
  const looked = req.settings.pattern
    ? `the pattern ${req.settings.pattern} finds no commit in it`
    : 'it holds no commit sha (7 to 40 hex characters)';
  return new RollbackError(
    'VERSION_UNKNOWN',
    `Cannot tell which commit ${s.target} ${req.to.label} was built from: ${found}, and ${looked}.`,
    {
      hint: `Set git.commitFrom / git.pattern for ${s.target} in rollback.yml, or revert by hand with the commit ${req.to.label} was built from:\n${manualSteps(s, `<commit of ${req.to.label}>`)}`,
      details: { field, value },
    },
  );
}

function toRevertError(error: unknown, s: RevertSubject, manual: string, signal: AbortSignal): RollbackError {
  if (isRollbackError(error)) return error;
  if (signal.aborted || (error instanceof GitCommandError && (error.kind === 'aborted' || error.kind === 'timeout'))) {
    const what = error instanceof GitCommandError ? error.message : 'Making the revert branch was stopped';
    return new RollbackError('PROVIDER_TIMEOUT', `${what}. Nothing was pushed.`, {
      hint: `Ask again, or by hand:\n${manual}`,
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof GitCommandError && error.kind === 'missing') {
    return new RollbackError('CONFIG_INVALID', 'git is not installed on the worker, so no revert branch can be made.', {
      hint: `Install git in the worker's image, or by hand:\n${manual}`,
      cause: error,
    });
  }
  const reason =
    error instanceof GitCommandError ? error.message : error instanceof Error ? error.message : String(error);
  return new RollbackError(
    'GIT_FAILED',
    `Could not make the revert branch in ${s.repo}: ${reason}. Nothing was pushed.`,
    { hint: `By hand:\n${manual}`, cause: error },
  );
}
