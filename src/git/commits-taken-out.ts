import type { CommitOut, PlanChange } from '../core/changes.js';
import { RollbackError } from '../core/errors.js';
import type { Plan } from '../core/types.js';
import type { Logger } from '../log.js';
import { withEveryBranch } from './cached-clone.js';
import { commitFor, mappingSource } from './commit-mapping.js';
import type { GitIn } from './git-runner.js';
import { readAccess } from './read-access.js';
import type { GitSettings } from './schema.js';

/** Commits named before "and N more". */
const COMMITS_SHOWN = 10;
function commitOf(plan: Plan, side: 'from' | 'to', settings: GitSettings): string {
  const version = plan[side];
  const commit = commitFor(version, settings);
  if (commit) return commit;
  const { field, value } = mappingSource(version, settings);
  throw new RollbackError(
    'COMMIT_UNKNOWN',
    `${version.label} names no commit in its ${field}${value === undefined ? ' (not set)' : ` ("${value}")`}.`,
  );
}

/** The full sha of a commit in the clone, or undefined when it has none. */
async function resolve(git: GitIn, sha: string): Promise<string | undefined> {
  const out = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${sha}^{commit}`], {
    okExit: [1, 128],
  });
  return out.exitCode === 0 ? out.stdout.trim() : undefined;
}

/**
 * The commits in the live version's history that the restored version's has not (`git log <to>..<from>`): what
 * the rollback takes out of production, newest first, at most ten and how many more. Read in the cached clone
 * (fetched unless it has both commits already); only reads.
 */
export async function commitsTakenOut(
  question: { settings: GitSettings; target: string; plan: Plan; cacheDir: string },
  ctx: { signal: AbortSignal; log: Logger },
): Promise<Extract<PlanChange, { kind: 'commits' }>> {
  const { settings, target, plan } = question;
  const from = commitOf(plan, 'from', settings);
  const to = commitOf(plan, 'to', settings);
  const log = ctx.log.child({ target, component: 'git-plan' });
  const access = await readAccess(settings, question.cacheDir, { signal: ctx.signal, log });
  const bothKnown = async (git: GitIn) =>
    (await resolve(git, from)) !== undefined && (await resolve(git, to)) !== undefined;
  return withEveryBranch(
    access,
    { repo: settings.repo, base: settings.branch, target },
    async (git) => {
      const [live, restored] = await Promise.all([resolve(git, from), resolve(git, to)]);
      for (const [sha, version] of [
        [live, plan.from],
        [restored, plan.to],
      ] as const) {
        if (!sha) {
          throw new RollbackError(
            'COMMIT_UNKNOWN',
            `${settings.repo} has no commit ${version === plan.from ? from : to} (${version.label}).`,
          );
        }
      }
      const range = `${restored}..${live}`;
      const [count, listed] = await Promise.all([
        git(['rev-list', '--count', range]),
        git(['log', `--max-count=${COMMITS_SHOWN}`, '--format=%h%x00%an%x00%s', range]),
      ]);
      const commits: CommitOut[] = listed.stdout
        .split('\n')
        .filter(Boolean)
        .map((row) => {
          const [sha = '', author = '', subject = ''] = row.split('\0');
          return { sha, author, subject };
        });
      const total = Number(count.stdout.trim()) || commits.length;
      return { kind: 'commits', repo: settings.repo, commits, more: Math.max(0, total - commits.length) };
    },
    { skipFetchIf: bothKnown },
  );
}
