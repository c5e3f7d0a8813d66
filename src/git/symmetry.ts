import { isRollbackError } from '../core/errors.js';
import type { DriverContext, FollowUp, FollowUpResult } from '../core/ports/driver.js';
import type { RollbackJobData } from '../core/ports/queue.js';
import { REVERT_BRANCH, type SymmetryRestorer } from '../core/symmetry.js';
import type { Plan, VersionInfo } from '../core/types.js';
import type { Logger } from '../log.js';
import { containsRevert } from './commit-containment.js';
import { commitFor } from './commit-mapping.js';
import { commitsTakenOut } from './commits-taken-out.js';
import { createRevertBranch } from './revert-branch.js';
import type { GitSettings } from './schema.js';

/** How many gate answers (revert, commit) are remembered. */
const VERDICTS_KEPT = 1_000;

/** The revert branch for targets with `git:` settings, through a cached clone per repository. */
export class GitSymmetry implements SymmetryRestorer {
  /**
   * Whether a full commit sha contains a revert never changes once both exist: a pipeline asking again (a retried
   * job, several stages) is answered without git. Only yes/no for full shas are kept.
   */
  private readonly verdicts = new Map<string, 'yes' | 'no'>();

  constructor(
    private readonly settings: ReadonlyMap<string, GitSettings>,
    private readonly cacheDir: string,
  ) {}

  offer(target: string, _plan: Plan): FollowUp | undefined {
    const git = this.settings.get(target);
    if (!git) return undefined;
    return {
      id: REVERT_BRANCH,
      label: 'Create revert branch',
      description: `git revert --no-commit <commit of the restored version>..HEAD on ${git.branch} of ${git.repo}, pushed as a new branch`,
      needsApproval: false,
    };
  }

  has(target: string): boolean {
    return this.settings.has(target);
  }

  commitOf(target: string, version: VersionInfo): string | undefined {
    const git = this.settings.get(target);
    return git ? commitFor(version, git) : undefined;
  }

  async contains(
    target: string,
    ancestor: string,
    commit: string,
    ctx: { signal: AbortSignal; log: Logger },
  ): Promise<'yes' | 'no' | 'unknown-commit'> {
    const settings = this.settings.get(target);
    if (!settings) return 'no';
    const key = `${settings.repo}\n${ancestor}\n${commit}`;
    const known = this.verdicts.get(key);
    if (known) return known;
    const verdict = await containsRevert({ settings, target, ancestor, commit, cacheDir: this.cacheDir }, ctx);
    if (verdict !== 'unknown-commit' && /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) {
      if (this.verdicts.size >= VERDICTS_KEPT) this.verdicts.delete(this.verdicts.keys().next().value ?? '');
      this.verdicts.set(key, verdict);
    }
    return verdict;
  }

  /** What the rollback takes out of production: `git log <restored>..<live>` in the target's repository. */
  async commitsTakenOut(target: string, plan: Plan, ctx: { signal: AbortSignal; log: Logger }) {
    const settings = this.settings.get(target);
    if (!settings) return undefined;
    return commitsTakenOut({ settings, target, plan, cacheDir: this.cacheDir }, ctx);
  }

  auto(target: string): boolean {
    return this.settings.get(target)?.autoRevert ?? false;
  }

  async run(ctx: DriverContext, job: RollbackJobData): Promise<FollowUpResult> {
    const git = this.settings.get(job.plan.target);
    if (!git) return { ok: false, output: '', detail: `${job.plan.target} has no git settings` };
    let result: Awaited<ReturnType<typeof createRevertBranch>>;
    try {
      result = await createRevertBranch(
        {
          settings: git,
          target: job.plan.target,
          requestId: job.followUp?.parentId ?? job.requestId,
          from: job.plan.from,
          to: job.plan.to,
          cacheDir: this.cacheDir,
        },
        { signal: ctx.signal, log: ctx.log, report: (step) => ctx.report(step) },
      );
    } catch (error) {
      // Git already holds what is deployed: symmetry is there, nothing to push.
      if (isRollbackError(error) && error.code === 'NOTHING_TO_ROLL_BACK')
        return { ok: true, output: '', detail: error.message };
      throw error;
    }
    const output = result.undone.map((c) => `${c.sha.slice(0, 10)} ${c.subject}`).join('\n');
    if (result.reused) {
      return {
        ok: true,
        output,
        commits: result.undone,
        revert: { commit: result.revertCommit, branch: result.branch, repo: git.repo },
        detail: `${result.branch} already exists for this rollback (nothing pushed again).${result.mergeRequestUrl ? ` Merge request: ${result.mergeRequestUrl}` : ''}`,
      };
    }
    const link = result.mergeRequestUrl ? ` Open the merge request: ${result.mergeRequestUrl}` : '';
    return {
      ok: true,
      output,
      commits: result.undone,
      revert: { commit: result.revertCommit, branch: result.branch, repo: git.repo },
      detail: `pushed ${result.branch}: ${result.undone.length} commit(s) after ${result.goodCommit.slice(0, 10)} undone in one commit. Redeploy it to restore symmetry (runbook step 2).${link}`,
    };
  }
}
