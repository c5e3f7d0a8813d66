import type { PlanChange } from './changes.js';
import type { DriverContext, FollowUp, FollowUpResult } from './ports/driver.js';
import type { RollbackJobData } from './ports/queue.js';
import type { Plan, VersionInfo } from './types.js';

export const REVERT_BRANCH = 'revert-branch';

/**
 * Restores symmetry between git and what is deployed after a rollback (both runbooks end there).
 * The core only knows this interface; src/git implements it with simple-git.
 */
export interface SymmetryRestorer {
  /** The "Create revert branch" follow-up, when the target has `git:` settings. */
  offer(target: string, plan: Plan): FollowUp | undefined;
  /** `git.autoRevert: true`: make the branch at once after a verified rollback. */
  auto(target: string): boolean;
  run(ctx: DriverContext, job: RollbackJobData): Promise<FollowUpResult>;
  /** Whether the target has `git:` settings: then a deploy containing the revert lifts its freeze. */
  has(target: string): boolean;
  /** The commit a version was built from, as the target's `git:` settings map it; undefined when it names none. */
  commitOf(target: string, version: VersionInfo): string | undefined;
  /**
   * Whether `commit` contains `ancestor` (is it, or descends from it) in the target's repository, fetched just
   * now; `unknown-commit` when the repository has no such commit.
   */
  contains(
    target: string,
    ancestor: string,
    commit: string,
    ctx: Pick<DriverContext, 'signal' | 'log'>,
  ): Promise<'yes' | 'no' | 'unknown-commit'>;
  /**
   * Optional: the commits between the commit of `plan.to` and that of `plan.from` (what the rollback takes out of
   * production), as a `commits` change; undefined when the target has no `git:` settings or a version names no
   * commit. Throws when the repository cannot be read.
   */
  commitsTakenOut?(
    target: string,
    plan: Plan,
    ctx: Pick<DriverContext, 'signal' | 'log'>,
  ): Promise<Extract<PlanChange, { kind: 'commits' }> | undefined>;
}
