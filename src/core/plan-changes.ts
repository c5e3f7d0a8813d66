import type { PlanChange } from './changes.js';
import { toRollbackError } from './errors.js';
import type { DriverContext, RollbackDriver } from './ports/driver.js';
import type { SymmetryRestorer } from './symmetry.js';
import type { Plan } from './types.js';

/** What a driver's summary is called when it cannot be read: "diff not available: …". */
const ABOUT: Record<string, string> = { fastly: 'diff', helm: 'values diff', kubernetes: 'pod template diff' };

/**
 * The plan's changes (the driver's summary, the commits taken out), read with the plan's context. Never
 * throws: a part that cannot be read becomes an `unavailable` change that says why, and the plan stands.
 */
export async function readChanges(
  driver: RollbackDriver,
  symmetry: SymmetryRestorer | undefined,
  ctx: DriverContext,
  plan: Plan,
): Promise<PlanChange[]> {
  const unavailable =
    (about: string) =>
    (error: unknown): PlanChange[] => {
      ctx.log.warn({ err: error, about }, 'plan: a change summary could not be read');
      return [{ kind: 'unavailable', about, reason: toRollbackError(error).message }];
    };
  const [own, commits] = await Promise.all([
    driver.changes ? driver.changes(ctx, plan).catch(unavailable(ABOUT[driver.kind] ?? 'diff')) : [],
    symmetry?.commitsTakenOut
      ? symmetry
          .commitsTakenOut(plan.target, plan, ctx)
          .then((c): PlanChange[] => (c ? [c] : []))
          .catch(unavailable('commits'))
      : [],
  ]);
  return [...own, ...commits];
}

/** The plan with its changes, when there are any to say. */
export async function withChanges(
  driver: RollbackDriver,
  symmetry: SymmetryRestorer | undefined,
  ctx: DriverContext,
  plan: Plan,
): Promise<Plan> {
  const changes = await readChanges(driver, symmetry, ctx, plan);
  return changes.length > 0 ? { ...plan, changes } : plan;
}
