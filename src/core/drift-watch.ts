import type { Logger } from '../log.js';
import type { DeployGate } from './deploy-gate.js';
import { utcTime } from './duration.js';
import { isAt } from './executor.js';
import type { FreezeStore } from './freeze.js';
import type { FreezeService } from './freeze-service.js';
import type { ThreadNotes } from './ports/thread-notes.js';
import type { TargetDrivers } from './target-drivers.js';
import { text } from './text.js';

/** What one check of a target found. */
export type DriftCheck =
  /** Not frozen after a rollback: nothing to watch. */
  | 'idle'
  /** Still on the version last seen. */
  | 'steady'
  /** A deploy containing the revert went live: the freeze ended. */
  | 'lifted'
  /** Moved without the gate: warned (once per move). */
  | 'drifted'
  /** Back on the restored version after a drift. */
  | 'restored'
  /** Another check reported this move already. */
  | 'seen';

export interface DriftWatchDeps {
  freezes: FreezeStore;
  service: FreezeService;
  gate: DeployGate;
  targets: TargetDrivers;
  notes?: ThreadNotes | undefined;
  log: Logger;
  now?: () => number;
}

/**
 * "Back on v41, verified" holds only until something puts v42 back (a GitOps controller, a pipeline, a person).
 * While a target is frozen after a rollback, each check re-reads its live version: a move to a deploy containing
 * the revert ends the freeze (the gate's way out); any other move is a drift, said once per move in the
 * rollback's thread and in the incident channel, recorded, and the freeze stays.
 */
export class DriftWatch {
  private readonly now: () => number;

  constructor(private readonly deps: DriftWatchDeps) {
    this.now = deps.now ?? Date.now;
  }

  async check(target: string): Promise<DriftCheck> {
    const freeze = await this.deps.freezes.current(target);
    if (freeze?.cause !== 'rollback' || !freeze.restored) return 'idle';
    const restored = freeze.restored;
    const seen = freeze.seen ?? restored;
    const driver = this.deps.targets.driver(target);
    const ctx = this.deps.targets.readContext(this.deps.log.child({ target, freeze: freeze.id, component: 'drift' }));
    try {
      const { current } = await driver.live(ctx);
      // isAt: a Helm rollback's own new revision "restores" the version seen; that is no move.
      if (isAt(current, seen)) return 'steady';
      if (await this.deps.gate.liftIfRevertLive(freeze, current)) return 'lifted';
      // One message per move: only the check that records the move says it.
      if (!(await this.deps.freezes.noteSeen(target, freeze.id, seen.id, current))) return 'seen';
      const at = this.now();
      if (isAt(current, restored)) {
        const line = text`✅ ${target} is back on ${current.label} (the version the rollback restored) at ${utcTime(at)}.`;
        await this.deps.service.tell(freeze, line, { kind: 'drift', ok: true, text: line });
        return 'restored';
      }
      const who = await driver.changedBy?.(ctx, current).catch(() => undefined);
      const what =
        freeze.from && isAt(current, freeze.from)
          ? 'the version rolled back from is live again'
          : 'a version the deploy gate did not let out is live';
      const line = text`⚠️ ${target} moved from ${seen.label} to ${current.label} at ${utcTime(at)} — ${what}${who ? ` (${who})` : ''}. ${target} stays frozen.`;
      this.deps.log.warn(
        { target, from: seen.id, to: current.id, who },
        'drift: the live version moved during a freeze',
      );
      await this.deps.service.tell(freeze, line, { kind: 'drift', ok: false, text: line });
      await this.deps.notes?.broadcast(text`${line} (rollback ${freeze.id})`);
      return 'drifted';
    } finally {
      ctx.done();
    }
  }
}
