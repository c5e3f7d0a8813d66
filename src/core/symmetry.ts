import type { DriverContext, FollowUp, FollowUpResult } from './ports/driver.js';
import type { RollbackJobData } from './ports/queue.js';
import type { Plan } from './types.js';

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
}
