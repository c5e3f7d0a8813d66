import type { Logger } from '../log.js';
import { RollbackError, toRollbackError } from './errors.js';
import { isAt } from './executor.js';
import { COMMIT_SHA, type Freeze, type FreezeStore, type LiftedFreeze } from './freeze.js';
import type { FreezeService } from './freeze-service.js';
import type { SymmetryRestorer } from './symmetry.js';
import type { TargetDrivers } from './target-drivers.js';
import { type Text, text } from './text.js';
import type { VersionInfo } from './types.js';

/** How long the gate waits for git (a fetch of the repository) before it answers that it cannot tell. */
const GIT_CHECK_MS = 60_000;

/** The gate's answer to "may I deploy (commit X) to target T now?". */
export type GateAnswer =
  | { target: string; deployable: true; freeze?: undefined }
  /** Frozen, but the commit contains the rollback's revert: it may go out. */
  | { target: string; deployable: true; freeze: Freeze; because: Text }
  | { target: string; deployable: false; freeze: Freeze; reason: Text; lift: Text };

export interface DeployGateDeps {
  freezes: FreezeStore;
  /** Words about freezes, and the thread and record they are said in. */
  service: FreezeService;
  targets: TargetDrivers;
  symmetry?: SymmetryRestorer | undefined;
  log: Logger;
  now?: () => number;
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

/**
 * The deploy gate: may a pipeline deploy this commit to this target now? While a target is frozen after a rollback
 * whose revert branch exists, only a commit that contains the revert; otherwise nothing until an approved unfreeze.
 * A deploy containing the revert that goes live ends the freeze (checkLift, liftIfRevertLive).
 */
export class DeployGate {
  private readonly now: () => number;

  constructor(private readonly deps: DeployGateDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * May `commit` (or, without one, anything) be deployed to `target` now? Unfrozen: yes. Frozen after a rollback
   * whose revert branch exists: only a commit that contains the revert, checked in the repository fetched just
   * now. Otherwise: no, until an approved unfreeze. A refused commit is said once in the rollback's thread.
   */
  async gate(target: string, commitAsked?: string): Promise<GateAnswer> {
    this.deps.targets.driver(target);
    const commit = commitAsked === undefined ? undefined : checkCommit(commitAsked);
    const freeze = await this.deps.freezes.current(target);
    if (!freeze) return { target, deployable: true };
    const refuse = (reason: Text): GateAnswer => ({
      target,
      deployable: false,
      freeze,
      reason,
      lift: this.deps.service.liftText(freeze),
    });
    const { revert } = freeze;
    if (!revert || !this.deps.symmetry?.has(target))
      return refuse(text`${target} is ${this.deps.service.describe(freeze)}`);
    if (commit === undefined) {
      return refuse(
        text`${target} is ${this.deps.service.describe(freeze)}; name the commit to deploy: only one that contains the revert ${short(revert.commit)} may go out`,
      );
    }
    const contains = await this.contains(target, revert.commit, commit);
    if (contains === 'unknown-commit') {
      throw new RollbackError(
        'COMMIT_UNKNOWN',
        `There is no commit ${commit} in ${revert.repo} (fetched just now), so the gate cannot tell whether it contains the revert ${short(revert.commit)}.`,
        { hint: 'Push the commit first, and pass its sha as the pipeline has it ($GITHUB_SHA, $CI_COMMIT_SHA).' },
      );
    }
    if (contains === 'yes') {
      return {
        target,
        deployable: true,
        freeze,
        because: text`${short(commit)} contains the revert ${short(revert.commit)} of rollback ${freeze.id}`,
      };
    }
    const reason = text`${short(commit)} does not contain the revert ${short(revert.commit)} (branch ${revert.branch}) of rollback ${freeze.id}: deploying it would bring back what the rollback took out`;
    // Once per commit, however the pipeline abbreviates it.
    if (await this.deps.freezes.firstRefusal(freeze.id, short(commit)).catch(() => false)) {
      const line = text`a deploy of \`${short(commit)}\` to ${target} was refused: it does not contain the revert \`${short(revert.commit)}\``;
      await this.deps.service.tell(freeze, text`🚧 ${line}`, { kind: 'deploy-refused', text: line });
    }
    return refuse(reason);
  }

  /**
   * Ends a rollback's freeze by itself once a version other than the restored (and the rolled-back) one is live
   * and its commit contains the revert. Returns the ended freeze, or undefined when it still holds.
   */
  async checkLift(target: string): Promise<LiftedFreeze | undefined> {
    const freeze = await this.deps.freezes.current(target);
    if (!freeze?.revert || !freeze.restored || !this.deps.symmetry?.has(target)) return undefined;
    const ctx = this.deps.targets.readContext(this.deps.log.child({ target, freeze: freeze.id }));
    try {
      const { current } = await this.deps.targets.driver(target).live(ctx);
      return await this.liftIfRevertLive(freeze, current);
    } finally {
      ctx.done();
    }
  }

  /** The lift of checkLift, for a live version already read (the drift watch reads it). */
  async liftIfRevertLive(freeze: Freeze, current: VersionInfo): Promise<LiftedFreeze | undefined> {
    const { symmetry } = this.deps;
    const { target, revert, restored } = freeze;
    if (!revert || !restored || !symmetry?.has(target)) return undefined;
    if (isAt(current, restored) || (freeze.from && isAt(current, freeze.from))) return undefined;
    const commit = symmetry.commitOf(target, current);
    if (!commit || (await this.contains(target, revert.commit, commit)) !== 'yes') return undefined;
    const why = text`${current.label} went live with ${short(commit)}, which contains the revert ${short(revert.commit)}`;
    const lifted = await this.deps.freezes.lift(target, freeze.id, {
      at: this.now(),
      by: 'gate',
      how: 'revert-deployed',
      why,
    });
    if (lifted) {
      this.deps.log.info({ target, freeze: freeze.id, version: current.id }, 'freeze ended: the revert is live');
      await this.deps.service.tell(lifted, text`🔓 ${target} is no longer frozen: ${why}.`, {
        kind: 'unfrozen',
        text: why,
      });
      await this.deps.service.offerResume(lifted);
    }
    return lifted;
  }

  private async contains(target: string, ancestor: string, commit: string): Promise<'yes' | 'no' | 'unknown-commit'> {
    const symmetry = this.deps.symmetry;
    if (!symmetry) return 'no';
    try {
      return await symmetry.contains(target, ancestor, commit, {
        signal: AbortSignal.timeout(GIT_CHECK_MS),
        log: this.deps.log.child({ target }),
      });
    } catch (error) {
      const coded = toRollbackError(error, 'GIT_FAILED');
      throw new RollbackError(
        coded.code,
        `The gate could not check whether ${short(commit)} contains the revert ${short(ancestor)}: ${coded.message}`,
        { hint: 'Nothing is deployable until it can: try again in a moment.', retryable: true, cause: error },
      );
    }
  }
}

/** The commit a pipeline asks about, as a lower-case sha; refused (COMMIT_UNKNOWN) when it cannot be one. */
function checkCommit(asked: string): string {
  const commit = asked.trim().toLowerCase();
  if (COMMIT_SHA.test(commit)) return commit;
  const shown = asked.length > 40 ? `${asked.slice(0, 40)}…` : asked;
  throw new RollbackError('COMMIT_UNKNOWN', `"${shown}" is not a commit sha.`, {
    hint: 'Pass the commit as 7 to 40 hexadecimal characters (64 for SHA-256), as the pipeline has it ($GITHUB_SHA, $CI_COMMIT_SHA).',
  });
}
