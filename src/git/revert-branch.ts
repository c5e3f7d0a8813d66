import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRollbackError, RollbackError } from '../core/errors.js';
import type { StepReport, VersionInfo } from '../core/types.js';
import type { Logger } from '../log.js';
import { withCloneLock } from './clone-lock.js';
import { commitFor, mappingSource } from './commit-mapping.js';
import { DEFAULT_GIT_TIMEOUTS, GitCommandError, GitRunner, type GitTimeouts } from './git-runner.js';
import { cacheNameFor, mergeRequestUrlFor } from './remote.js';
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
const LOCK_WAIT_MS = 120_000;

/**
 * The runbook's step 1, done for the people in the thread: in a cached clone, a branch
 * `rollback/<target>-<requestId>` from the branch head, `git revert --no-commit <good>..HEAD`, one
 * commit, pushed. Whatever fails, nothing half-made is pushed, the clone is left clean, and the error
 * says what to run by hand.
 *
 * The commits undone are the branch's first-parent line from its head back to the good commit. On a
 * line without merges that is exactly the runbook's range; with merge commits (GitHub's "Create a merge
 * commit") each merge is reverted against its first parent (`-m 1`), which the plain range cannot do.
 * Reverting newest first on a clean clone, each revert applies to exactly the files it undoes, so the
 * result is the good commit's files; that is checked before anything is committed.
 *
 * Calling it again for the same request returns the branch already pushed (`reused: true`) when its tip
 * is still the bot's commit for this request, so a second click or a retried job does no harm.
 */
export async function createRevertBranch(
  req: RevertBranchRequest,
  ctx: RevertBranchContext,
): Promise<RevertBranchResult> {
  const { settings, target, requestId } = req;
  const base = settings.branch;
  const branch = `rollback/${target}-${requestId}`;
  const log = ctx.log.child({ target, requestId, component: 'git-revert' });
  const report = ctx.report ?? (() => undefined);
  const runner = new GitRunner({
    env: ctx.env ?? process.env,
    repo: settings.repo,
    identity: { author: req.author ?? BOT, committer: BOT },
    signal: ctx.signal,
    log,
    timeouts: { ...DEFAULT_GIT_TIMEOUTS, ...ctx.timeouts },
  });
  const manual = (good: string, options: { merges?: boolean; conflicts?: boolean } = {}) =>
    manualSteps({ repo: settings.repo, base, branch, good, ...options });

  const good = commitFor(req.to, settings);
  if (!good) {
    const { field, value } = mappingSource(req.to, settings);
    const found =
      value === undefined ? `${req.to.label} has no ${field}` : `${req.to.label}'s ${field} is "${oneLine(value)}"`;
    const looked = settings.pattern
      ? `the pattern ${settings.pattern} finds no commit in it`
      : 'it holds no commit sha (7 to 40 hex characters)';
    throw new RollbackError(
      'VERSION_UNKNOWN',
      `Cannot tell which commit ${target} ${req.to.label} was built from: ${found}, and ${looked}.`,
      {
        hint: `Set git.commitFrom / git.pattern for ${target} in rollback.yml, or revert by hand with the commit ${req.to.label} was built from:\n${manual(`<commit of ${req.to.label}>`)}`,
        details: { field, value },
      },
    );
  }

  try {
    await mkdir(req.cacheDir, { recursive: true });
    await Promise.all([
      checkRefName(
        runner,
        req.cacheDir,
        branch,
        `The revert branch name "${branch}" (from the target and the request ID)`,
      ),
      checkRefName(runner, req.cacheDir, base, `git.branch "${base}" of ${target}`),
    ]);
    const clone = join(req.cacheDir, cacheNameFor(settings.repo));
    return await withCloneLock(clone, { signal: ctx.signal, waitMs: LOCK_WAIT_MS }, async () => {
      const git = (args: string[], opts?: Parameters<GitRunner['run']>[2]) => runner.run(clone, args, opts);
      const text = async (args: string[], opts?: Parameters<GitRunner['run']>[2]) =>
        (await git(args, opts)).stdout.trim();

      report({ status: 'progress', text: `Fetching ${base} of ${settings.repo}` });
      const fetched = await ensureFetched(runner, req.cacheDir, clone, settings.repo, base, target);
      try {
        if (fetched === 'reused') await leaveClean(runner, clone, base, branch, log, { cleanup: false });

        const head = await text(['rev-parse', '--verify', `refs/remotes/origin/${base}^{commit}`]);
        const goodFull = (
          await git(['rev-parse', '--verify', '--quiet', `${good}^{commit}`], { okExit: [1, 128] })
        ).stdout.trim();
        if (!/^[0-9a-f]{40,64}$/.test(goodFull)) {
          const { field } = mappingSource(req.to, settings);
          throw new RollbackError(
            'VERSION_UNKNOWN',
            `Commit ${good} (read from ${req.to.label}'s ${field}) is not in ${settings.repo}: ${base} was fetched and has no such commit.`,
            {
              hint: `Check that ${target}'s git.repo is the repository ${req.to.label} was built from, and that the commit was pushed. By hand, once you know the commit:\n${manual(good)}`,
            },
          );
        }
        // `merge-base A B` prints A exactly when A is an ancestor of B (like --is-ancestor, but not silent: see SILENT below).
        if ((await text(['merge-base', goodFull, head], { okExit: [1] })) !== goodFull) {
          throw new RollbackError(
            'GIT_FAILED',
            `Commit ${short(goodFull)} (${req.to.label}) is in ${settings.repo} but not in the history of ${base}: it was deployed from another branch, or ${base} was rewritten since.`,
            {
              hint: `Reverting ${base} cannot bring ${req.to.label} back. Decide by hand what ${base} should hold; to make its files exactly those of ${req.to.label}:\n${manualTree(settings.repo, base, branch, goodFull)}`,
            },
          );
        }

        const existing = await remoteBranchTip(runner, clone, base, branch);
        if (existing)
          return await reuseExisting({
            runner,
            clone,
            branch,
            base,
            existing,
            goodFull,
            requestId,
            repo: settings.repo,
            manual,
          });

        if ((await text(['rev-parse', `${goodFull}^{tree}`])) === (await text(['rev-parse', `${head}^{tree}`]))) {
          throw new RollbackError(
            'NOTHING_TO_ROLL_BACK',
            `Nothing to revert: ${base} of ${settings.repo} already holds exactly the files of ${target} ${req.to.label} (${short(goodFull)}), so the repository and what is deployed agree. No branch was made.`,
            {
              details: { goodCommit: goodFull, headCommit: head },
            },
          );
        }

        const line = await firstParentLine(runner, clone, goodFull, head);
        if (!line) {
          throw new RollbackError(
            'GIT_FAILED',
            `Commit ${short(goodFull)} (${req.to.label}) is in ${base}'s history only through a merge: it was deployed from a branch merged later, so reverting ${base}'s own commits would not give back exactly what is live.`,
            {
              hint: `Decide by hand what ${base} should hold; to make its files exactly those of ${req.to.label}:\n${manualTree(settings.repo, base, branch, goodFull)}`,
            },
          );
        }
        const merges = line.some((c) => c.merge);
        const undone = line.map(({ sha, subject }) => ({ sha, subject }));

        report({
          status: 'progress',
          text: `Reverting ${undone.length} commit${undone.length === 1 ? '' : 's'} on ${branch}`,
        });
        await git(['checkout', '--no-track', '-b', branch, `refs/remotes/origin/${base}`]);
        const revertArgs = merges
          ? ['revert', '--no-commit', '-m', '1', ...line.map((c) => c.sha)]
          : ['revert', '--no-commit', `${goodFull}..${head}`];
        try {
          // Given a network call's patience: hundreds of commits on a large tree take a while, silently.
          await git(revertArgs, { network: true });
        } catch (error) {
          if (!(error instanceof GitCommandError) || error.kind !== 'exit') throw error;
          const files = await conflictingFiles(runner, clone, error.stderr);
          throw new RollbackError(
            'GIT_FAILED',
            `Could not revert ${target}'s repository to ${req.to.label} (${short(goodFull)}) automatically: ${files.length ? `git stopped on ${files.join(', ')}` : error.reason}. Nothing was pushed.`,
            {
              hint: `By hand, resolving ${files.length ? files.join(', ') : 'what git reports'} before the commit:\n${manual(short(goodFull), { merges, conflicts: true })}`,
              details: { files, reason: error.reason },
              cause: error,
            },
          );
        }

        const tree = await text(['write-tree']);
        if (tree !== (await text(['rev-parse', `${goodFull}^{tree}`]))) {
          throw new RollbackError(
            'GIT_FAILED',
            `Reverting ${undone.length} commits did not give back exactly the files of ${req.to.label} (${short(goodFull)}); nothing was pushed.`,
            {
              hint: `Revert by hand and compare with \`git diff ${short(goodFull)}\` before you push:\n${manual(short(goodFull), { merges })}`,
            },
          );
        }

        await git([
          'commit',
          '--no-verify',
          '-m',
          commitMessage({
            target,
            requestId,
            from: req.from,
            to: req.to,
            good: goodFull,
            bad: commitFor(req.from, settings),
            base,
            undone,
          }),
        ]);
        const revertCommit = await text(['rev-parse', 'HEAD']);

        report({ status: 'progress', text: `Pushing ${branch}` });
        try {
          await git(['push', '--progress', '--no-verify', 'origin', `refs/heads/${branch}:refs/heads/${branch}`], {
            network: true,
          });
        } catch (error) {
          if (!(error instanceof GitCommandError) || error.kind !== 'exit') throw error;
          const refused = /rejected\]|declined|denied|protected|not allowed|permission|forbidden|40[13]/i.test(
            error.reason,
          );
          throw new RollbackError(
            refused ? 'PROVIDER_REJECTED' : 'PROVIDER_UNAVAILABLE',
            `${settings.repo} ${refused ? 'refused' : 'did not take'} the revert branch ${branch}: ${error.reason}`,
            {
              hint: `The bot's local branch is gone. ${refused ? 'Fix what the remote says (permissions, a hook)' : 'Check the worker can reach the git host'}, then ask again, or by hand:\n${manual(short(goodFull), { merges })}`,
              retryable: !refused,
              details: { reason: error.reason },
              cause: error,
            },
          );
        }
        log.info(
          { branch, goodCommit: goodFull, headCommit: head, revertCommit, undone: undone.length },
          'revert branch pushed',
        );
        report({
          status: 'ok',
          text: `Pushed ${branch}: ${undone.length} commit${undone.length === 1 ? '' : 's'} undone`,
        });
        const mergeRequestUrl = mergeRequestUrlFor(settings.repo, base, branch);
        return {
          branch,
          goodCommit: goodFull,
          headCommit: head,
          revertCommit,
          undone,
          reused: false,
          ...(mergeRequestUrl ? { mergeRequestUrl } : {}),
        };
      } finally {
        await leaveClean(runner, clone, base, branch, log, { cleanup: true }).catch(async (error: unknown) => {
          // A clone that cannot be put back in order is thrown away: the next request clones afresh.
          log.warn({ err: error }, 'cached clone could not be cleaned; removing it');
          await rm(clone, { recursive: true, force: true });
        });
      }
    });
  } catch (error) {
    throw toRevertError(error, { repo: settings.repo, base, target, manual: manual(short(good)) }, ctx.signal);
  }
}

/** Branch names come from rollback.yml and the request ID; git itself says whether they are valid refs. */
async function checkRefName(runner: GitRunner, dir: string, name: string, what: string): Promise<void> {
  if (name.length === 0 || name.startsWith('-')) throw invalidRef(what);
  // --normalize prints the name (see SILENT); a name it would change is not one to use as it is.
  const checked = await runner.run(dir, ['check-ref-format', '--normalize', `refs/heads/${name}`], { okExit: [1] });
  if (checked.exitCode !== 0 || checked.stdout.trim() !== `refs/heads/${name}`) throw invalidRef(what);
}

function invalidRef(what: string): RollbackError {
  return new RollbackError('CONFIG_INVALID', `${what} is not a valid git branch name.`, {
    hint: 'See `git check-ref-format --help` for what a branch name may hold.',
  });
}

/** Clones into a temporary directory and renames it into place, so a clone cut short never looks cached. */
async function ensureFetched(
  runner: GitRunner,
  cacheDir: string,
  clone: string,
  repo: string,
  base: string,
  target: string,
): Promise<'cloned' | 'reused'> {
  const usable =
    existsSync(join(clone, '.git')) &&
    (await runner.run(clone, ['config', '--get', 'remote.origin.url'], { okExit: [1] }).then(
      (r) => r.stdout.trim() === repo,
      () => false,
    ));
  const refspec = `+refs/heads/${base}:refs/remotes/origin/${base}`;
  try {
    if (usable) {
      await runner.run(clone, ['fetch', '--progress', '--no-tags', 'origin', refspec], { network: true });
      return 'reused';
    }
    await rm(clone, { recursive: true, force: true });
    const tmp = `${clone}.tmp-${process.pid}-${Date.now()}`;
    try {
      await runner.run(
        cacheDir,
        ['clone', '--progress', '--no-tags', '--single-branch', '--branch', base, '--', repo, tmp],
        { network: true },
      );
      // Files exactly as committed: no line-ending conversion or smudge filter (LFS) can make the
      // working tree look changed and stop a revert half-way.
      await mkdir(join(tmp, '.git', 'info'), { recursive: true });
      await writeFile(join(tmp, '.git', 'info', 'attributes'), '* -text -eol -filter -ident -working-tree-encoding\n');
      await rename(tmp, clone);
      return 'cloned';
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (error) {
    if (error instanceof GitCommandError && error.kind === 'exit') throw fetchError(error, repo, base, target);
    throw error;
  }
}

function fetchError(error: GitCommandError, repo: string, base: string, target: string): RollbackError {
  const reason = error.reason;
  if (/Remote branch \S+ not found|couldn't find remote ref/i.test(reason)) {
    return new RollbackError('CONFIG_INVALID', `${repo} has no branch ${base}.`, {
      hint: `Set git.branch for ${target} in rollback.yml to the branch that is deployed.`,
      cause: error,
    });
  }
  if (
    /Permission denied|Authentication failed|could not read Username|terminal prompts disabled|returned error: 40[13]|Host key verification failed|access denied|not authorized/i.test(
      reason,
    )
  ) {
    return new RollbackError('PROVIDER_AUTH', `The worker may not read ${repo}: ${reason}`, {
      hint: "For https give GIT_TOKEN a token that may read and push the repository; for ssh load a deploy key with write access in the worker's ssh agent or GIT_SSH_COMMAND, and make sure the host is in known_hosts.",
      cause: error,
    });
  }
  if (/does not appear to be a git repository|not found|does not exist/i.test(reason)) {
    return new RollbackError('CONFIG_INVALID', `${repo} cannot be read as a git repository: ${reason}`, {
      hint: `Check git.repo for ${target} in rollback.yml.`,
      cause: error,
    });
  }
  return new RollbackError('PROVIDER_UNAVAILABLE', `Could not fetch ${repo}: ${reason}`, {
    hint: 'Try again in a minute; if it keeps failing, check the worker can reach the git host.',
    retryable: true,
    cause: error,
  });
}

/*
 * SILENT: simple-git waits 50 ms after a git process that printed nothing, so commands here keep their
 * one-line output (no --quiet): a dozen silent calls would add more than half a second to every branch.
 */

/**
 * Puts the cached clone back to "detached at origin/<base>, nothing changed, no revert in progress, no
 * local revert branch", whatever state a previous run (or a worker that died) left it in.
 */
async function leaveClean(
  runner: GitRunner,
  clone: string,
  base: string,
  branch: string,
  log: Logger,
  opts: { cleanup: boolean },
): Promise<void> {
  const run = (args: string[], okExit?: number[]) =>
    runner.run(clone, args, { cleanup: opts.cleanup, ...(okExit ? { okExit } : {}) });
  if (existsSync(join(clone, '.git', 'sequencer')) || existsSync(join(clone, '.git', 'REVERT_HEAD'))) {
    await run(['revert', '--abort']).catch(async (error: unknown) => {
      log.debug({ err: error }, 'git revert --abort failed; quitting the revert instead');
      await run(['revert', '--quit']);
    });
  }
  await run(['reset', '--hard']);
  await run(['clean', '-ffdx']);
  await run(['checkout', '--force', '--detach', `refs/remotes/origin/${base}`]);
  await run(['branch', '-D', branch], [1]);
}

/** The tip of the revert branch on the remote, fetched, or undefined when there is none. */
async function remoteBranchTip(
  runner: GitRunner,
  clone: string,
  base: string,
  branch: string,
): Promise<string | undefined> {
  // Asks for the base branch too so that the answer is never empty (see SILENT).
  const listed = await runner.run(
    clone,
    ['ls-remote', '--heads', 'origin', `refs/heads/${base}`, `refs/heads/${branch}`],
    { network: true },
  );
  if (!listed.stdout.split('\n').some((line) => line.endsWith(`\trefs/heads/${branch}`))) return undefined;
  await runner.run(clone, ['fetch', '--no-tags', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`], {
    network: true,
  });
  return (await runner.run(clone, ['rev-parse', '--verify', `refs/remotes/origin/${branch}^{commit}`])).stdout.trim();
}

async function reuseExisting(args: {
  runner: GitRunner;
  clone: string;
  branch: string;
  base: string;
  existing: string;
  goodFull: string;
  requestId: string;
  repo: string;
  manual: (good: string) => string;
}): Promise<RevertBranchResult> {
  const { runner, clone, branch, base, existing, goodFull } = args;
  const text = async (a: string[]) => (await runner.run(clone, a)).stdout.trim();
  const message = await text(['log', '-1', '--format=%B', existing]);
  const parents = (await text(['rev-list', '--parents', '-n', '1', existing])).split(' ').slice(1);
  const ours =
    message.split('\n').some((l) => l.trim() === `Rollback-Request: ${args.requestId}`) &&
    parents.length === 1 &&
    (await text(['rev-parse', `${existing}^{tree}`])) === (await text(['rev-parse', `${goodFull}^{tree}`]));
  const mergeRequestUrl = mergeRequestUrlFor(args.repo, base, branch);
  if (!ours) {
    throw new RollbackError(
      'GIT_FAILED',
      `${branch} already exists on ${args.repo} and is no longer just the bot's revert (its tip is ${short(existing)}); nothing was overwritten.`,
      {
        hint: `Open it${mergeRequestUrl ? ` (${mergeRequestUrl})` : ''} and carry on there, or delete it (\`git push origin --delete ${branch}\`) and ask again.`,
      },
    );
  }
  const head = parents[0]!;
  const line = (await firstParentLine(runner, clone, goodFull, head)) ?? [];
  return {
    branch,
    goodCommit: goodFull,
    headCommit: head,
    revertCommit: existing,
    undone: line.map(({ sha, subject }) => ({ sha, subject })),
    reused: true,
    ...(mergeRequestUrl ? { mergeRequestUrl } : {}),
  };
}

/**
 * The commits on head's first-parent line back to `good`, newest first, or undefined when that line
 * does not pass through `good` (it is reachable only through a merge).
 */
async function firstParentLine(
  runner: GitRunner,
  clone: string,
  good: string,
  head: string,
): Promise<Array<{ sha: string; subject: string; merge: boolean }> | undefined> {
  const out = (await runner.run(clone, ['log', '--first-parent', '--format=%H%x00%P%x00%s', `${good}..${head}`]))
    .stdout;
  const commits = out
    .split('\n')
    .filter(Boolean)
    .map((row) => {
      const [sha = '', parents = '', subject = ''] = row.split('\0');
      return { sha, parents: parents.split(' ').filter(Boolean), subject };
    });
  const oldest = commits.at(-1);
  if (oldest && oldest.parents[0] !== good) return undefined;
  return commits.map(({ sha, parents, subject }) => ({ sha, subject, merge: parents.length > 1 }));
}

/** Files git stopped on: unmerged paths, or those it would not overwrite. */
async function conflictingFiles(runner: GitRunner, clone: string, stderr: string): Promise<string[]> {
  const unmerged = (
    await runner.run(clone, ['diff', '--name-only', '--diff-filter=U'], { cleanup: true }).catch(() => ({ stdout: '' }))
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

function commitMessage(m: {
  target: string;
  requestId: string;
  from: VersionInfo;
  to: VersionInfo;
  good: string;
  bad: string | undefined;
  base: string;
  undone: Array<{ sha: string; subject: string }>;
}): string {
  const n = m.undone.length;
  const list = m.undone.map((c) => `- ${short(c.sha)} ${oneLine(c.subject)}`).join('\n');
  const to = oneLine(m.to.label);
  const from = oneLine(m.from.label);
  return [
    `Revert ${m.target} to ${to} (rollback ${m.requestId})`,
    '',
    `${m.target} was rolled back from ${from}${m.bad ? ` (${m.bad})` : ''} to ${to} by rapid-rollback request ${m.requestId}.`,
    `Undoes ${n} commit${n === 1 ? '' : 's'} made on ${m.base} after ${to} (${short(m.good)}), so that the`,
    `files are again those deployed:`,
    '',
    list,
    '',
    `Rollback-Request: ${m.requestId}`,
    `Rollback-Target: ${m.target}`,
    `Rollback-From: ${from}`,
    `Rollback-To: ${to}`,
  ].join('\n');
}

/** The runbook's commands, filled in. */
function manualSteps(m: {
  repo: string;
  base: string;
  branch: string;
  good: string;
  merges?: boolean;
  conflicts?: boolean;
}): string {
  const revert = m.merges
    ? `git revert --no-commit -m 1 $(git rev-list --first-parent ${m.good}..HEAD)`
    : `git revert --no-commit ${m.good}..HEAD`;
  const start = `In a clone of ${m.repo}: git fetch origin && git checkout -b ${m.branch} origin/${m.base} && ${revert}`;
  const finish = `git commit && git push -u origin ${m.branch}`;
  return m.conflicts
    ? `${start}\nthen resolve the conflicts and \`git add\` the files, then: ${finish}`
    : `${start} && ${finish}`;
}

function manualTree(repo: string, base: string, branch: string, good: string): string {
  return `In a clone of ${repo}: git fetch origin && git checkout -b ${branch} origin/${base} && git read-tree -u --reset ${short(good)} && git commit && git push -u origin ${branch}`;
}

function toRevertError(
  error: unknown,
  m: { repo: string; base: string; target: string; manual: string },
  signal: AbortSignal,
): RollbackError {
  if (isRollbackError(error)) return error;
  if (signal.aborted || (error instanceof GitCommandError && (error.kind === 'aborted' || error.kind === 'timeout'))) {
    const what = error instanceof GitCommandError ? error.message : 'Making the revert branch was stopped';
    return new RollbackError('PROVIDER_TIMEOUT', `${what}. Nothing was pushed.`, {
      hint: `Ask again, or by hand:\n${m.manual}`,
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof GitCommandError && error.kind === 'missing') {
    return new RollbackError('CONFIG_INVALID', 'git is not installed on the worker, so no revert branch can be made.', {
      hint: `Install git in the worker's image, or by hand:\n${m.manual}`,
      cause: error,
    });
  }
  const reason =
    error instanceof GitCommandError ? error.message : error instanceof Error ? error.message : String(error);
  return new RollbackError(
    'GIT_FAILED',
    `Could not make the revert branch in ${m.repo}: ${reason}. Nothing was pushed.`,
    { hint: `By hand:\n${m.manual}`, cause: error },
  );
}

function short(sha: string): string {
  return /^[0-9a-f]{12,}$/.test(sha) ? sha.slice(0, 12) : sha;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
