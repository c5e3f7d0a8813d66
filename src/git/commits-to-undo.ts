import { RollbackError } from '../core/errors.js';
import type { GitIn } from './git-runner.js';
import { manualSteps, manualTree } from './manual-steps.js';
import { short } from './message-text.js';
import type { RevertSubject } from './revert-subject.js';

interface CommitRef {
  sha: string;
  tree: string;
}

/** The revert branch as the remote holds it, from an earlier run for the same request (or a person). */
export interface PushedBranch extends CommitRef {
  parents: string[];
  message: string;
}

/** What the fetched clone says: the base branch's head, the good commit, and the revert branch if pushed. */
export interface RepoCommits {
  head: CommitRef;
  good: CommitRef;
  pushed: PushedBranch | undefined;
}

/** One commit on the base branch's own (first-parent) line. */
export interface LineCommit {
  sha: string;
  subject: string;
  merge: boolean;
}

/**
 * Where the good commit is in the history of head: on head's first-parent line (`line`: the commits to
 * undo, newest first), reachable only through a merge, or not in it at all.
 */
export type GoodPlace = { on: 'line'; line: LineCommit[] } | { on: 'merge' } | { on: 'elsewhere' };

const SHA = /^[0-9a-f]{40,64}$/;
const FIELDS = ['%(refname)', '%(objectname)', '%(tree)', '%(parent)', '%(contents)'];

/**
 * Reads head, the good commit and the pushed branch in two git processes; throws VERSION_UNKNOWN when
 * the repository has no commit `good`.
 */
export async function readCommits(git: GitIn, s: RevertSubject, good: string): Promise<RepoCommits> {
  const [resolved, refs] = await Promise.all([
    // `--`: both are revisions, never paths; a commit that is not there is exit 128, not an answer.
    git(['rev-parse', `${good}^{commit}`, `${good}^{tree}`, '--'], { okExit: [128] }),
    // The base branch is always there, so the answer is never empty (see GitRunner.run).
    git([
      'for-each-ref',
      `--format=${FIELDS.join('%00')}%00`,
      `refs/remotes/origin/${s.base}`,
      `refs/remotes/origin/${s.branch}`,
    ]),
  ]);
  const [goodSha = '', goodTree = ''] = resolved.stdout.split('\n');
  if (resolved.exitCode !== 0 || !SHA.test(goodSha)) throw notInRepository(s, good);
  const byRef = parseRefs(refs.stdout);
  const head = byRef.get(`refs/remotes/origin/${s.base}`);
  if (!head) throw new Error(`origin/${s.base} is missing after the fetch`);
  return { head, good: { sha: goodSha, tree: goodTree }, pushed: byRef.get(`refs/remotes/origin/${s.branch}`) };
}

/** for-each-ref's records: FIELDS each ended by NUL, a newline after each record (read with the next ref). */
function parseRefs(out: string): Map<string, PushedBranch> {
  const values = out.split('\0');
  const refs = new Map<string, PushedBranch>();
  for (let i = 0; i + FIELDS.length <= values.length; i += FIELDS.length) {
    const [ref = '', sha = '', tree = '', parents = '', message = ''] = values.slice(i, i + FIELDS.length);
    refs.set(ref.trim(), { sha, tree, parents: parents.split(' ').filter(Boolean), message });
  }
  return refs;
}

/** Usually one `git log`; `git merge-base` only to tell a good commit off the line from one not in history. */
export async function placeOfGood(git: GitIn, good: string, head: string): Promise<GoodPlace> {
  const line = await firstParentLine(git, good, head);
  // An empty line means head is good or behind it; good is in head's history only when it is head.
  if (line) return line.length > 0 || good === head ? { on: 'line', line } : { on: 'elsewhere' };
  // `merge-base A B` prints A exactly when A is an ancestor of B (like --is-ancestor, but not silent).
  const mergeBase = await git(['merge-base', good, head], { okExit: [1] });
  return mergeBase.stdout.trim() === good ? { on: 'merge' } : { on: 'elsewhere' };
}

/**
 * The commits on head's first-parent line back to `good`, newest first, or undefined when that line
 * does not pass through `good` (it is reachable only through a merge, or not at all).
 */
export async function firstParentLine(git: GitIn, good: string, head: string): Promise<LineCommit[] | undefined> {
  const out = (await git(['log', '--first-parent', '--format=%H%x00%P%x00%s', `${good}..${head}`])).stdout;
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

function notInRepository(s: RevertSubject, good: string): RollbackError {
  return new RollbackError(
    'VERSION_UNKNOWN',
    `Commit ${good} (read from ${s.to.label}'s ${s.to.field}) is not in ${s.repo}: ${s.base} was fetched and has no such commit.`,
    {
      hint: `Check that ${s.target}'s git.repo is the repository ${s.to.label} was built from, and that the commit was pushed. By hand, once you know the commit:\n${manualSteps(s, good)}`,
    },
  );
}

export function notInHistory(s: RevertSubject, good: string): RollbackError {
  return new RollbackError(
    'GIT_FAILED',
    `Commit ${short(good)} (${s.to.label}) is in ${s.repo} but not in the history of ${s.base}: it was deployed from another branch, or ${s.base} was rewritten since.`,
    {
      hint: `Reverting ${s.base} cannot bring ${s.to.label} back. Decide by hand what ${s.base} should hold; to make its files exactly those of ${s.to.label}:\n${manualTree(s, good)}`,
    },
  );
}

export function nothingToRevert(s: RevertSubject, commits: RepoCommits): RollbackError {
  return new RollbackError(
    'NOTHING_TO_ROLL_BACK',
    `Nothing to revert: ${s.base} of ${s.repo} already holds exactly the files of ${s.target} ${s.to.label} (${short(commits.good.sha)}), so the repository and what is deployed agree. No branch was made.`,
    { details: { goodCommit: commits.good.sha, headCommit: commits.head.sha } },
  );
}

export function onlyThroughMerge(s: RevertSubject, good: string): RollbackError {
  return new RollbackError(
    'GIT_FAILED',
    `Commit ${short(good)} (${s.to.label}) is in ${s.base}'s history only through a merge: it was deployed from a branch merged later, so reverting ${s.base}'s own commits would not give back exactly what is live.`,
    {
      hint: `Decide by hand what ${s.base} should hold; to make its files exactly those of ${s.to.label}:\n${manualTree(s, good)}`,
    },
  );
}
