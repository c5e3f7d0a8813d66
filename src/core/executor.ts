import type { DriverContext, RollbackDriver } from '../drivers/types.js';
import { RollbackError, toRollbackError } from './errors.js';
import { LeaseLostError } from './lease.js';
import type { Plan, VerifyCheck, VersionInfo } from './types.js';

export type ExecutionStatus = 'succeeded' | 'already-done' | 'stale' | 'failed';

export interface ExecutionOutcome {
  status: ExecutionStatus;
  /** What the provider said was live last, when it was read. */
  live: VersionInfo | undefined;
  checks: VerifyCheck[];
  error: RollbackError | undefined;
  /** True when this run made the provider call that changes things. */
  changed: boolean;
}

/** Live is the version, or a rollback to it (Helm makes a new revision that restores an old one). */
export function isAt(live: VersionInfo, version: VersionInfo): boolean {
  return live.id === version.id || live.restores === version.id;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/**
 * Carries out a pinned plan: re-read, act only if the plan still holds, verify.
 *
 * Activations are not idempotent, so this never retries the change itself. A run that finds the
 * target already on `plan.to` (a job re-run after a worker died) verifies and reports instead of acting
 * again; a run that finds anything other than `plan.from` or `plan.to` stops without changing anything.
 */
export interface ExecuteOptions {
  /** Runs after the stale-plan check and before the change, only when there is a change to make. */
  beforeChange?: (() => Promise<void>) | undefined;
}

export async function executePlan(driver: RollbackDriver, plan: Plan, ctx: DriverContext, options: ExecuteOptions = {}): Promise<ExecutionOutcome> {
  const outcome: ExecutionOutcome = { status: 'failed', live: undefined, checks: [], error: undefined, changed: false };
  const fail = (error: unknown, what: string, ms?: number) => {
    const coded = toRollbackError(error);
    ctx.report({ status: 'failed', text: `${what}: ${coded.toUserText()}`, durationMs: ms });
    outcome.error = coded;
    return outcome;
  };

  // 1. The stale-plan check.
  let started = performance.now();
  try {
    const { value: live, ms } = await timed(() => driver.live(ctx));
    outcome.live = live.current;
    if (isAt(live.current, plan.to)) {
      ctx.report({ status: 'info', text: `${plan.to.label} is already live on ${live.resource}: nothing to activate, verifying.`, durationMs: ms });
      outcome.status = 'already-done';
    } else if (live.current.id !== plan.from.id) {
      const error = new RollbackError(
        'PLAN_STALE',
        `Stopped: the plan was made when ${plan.from.label} was live, but ${live.resource} now has ${live.current.label}. Nothing was changed.`,
        { hint: `Someone deployed or rolled back since. Run \`/rollback ${plan.target}\` again for a fresh plan.` },
      );
      ctx.report({ status: 'failed', text: error.toUserText(), durationMs: ms });
      outcome.status = 'stale';
      outcome.error = error;
      return outcome;
    } else {
      ctx.report({ status: 'ok', text: `Checked: ${plan.from.label} is live on ${live.resource}, as planned`, durationMs: ms });
    }
  } catch (error) {
    return fail(error, `Could not read ${plan.target} before acting, so nothing was changed`, performance.now() - started);
  }

  // 2. The change itself, once.
  if (outcome.status !== 'already-done') {
    try {
      await options.beforeChange?.();
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      return fail(error, 'Stopped before the change, so nothing was changed');
    }
    started = performance.now();
    try {
      await driver.execute(ctx, plan);
      outcome.changed = true;
      ctx.report({ status: 'ok', text: plan.actionDone, durationMs: performance.now() - started });
    } catch (error) {
      fail(error, `Rolling back to ${plan.to.label} failed`, performance.now() - started);
      // Whether the change happened is unknown: look, and say what is live now.
      try {
        const after = await driver.live(ctx);
        outcome.live = after.current;
        const happened = isAt(after.current, plan.to);
        ctx.report({
          status: happened ? 'ok' : 'info',
          text: happened
            ? `Re-read: ${plan.to.label} is live after all; verifying.`
            : `Re-read: ${after.current.label} is still live; nothing changed.`,
        });
        if (!happened) return outcome;
        outcome.changed = true;
        outcome.error = undefined;
      } catch {
        ctx.report({ status: 'failed', text: `Could not re-read ${plan.target}: check it by hand before trying again.` });
        return outcome;
      }
    }
  }

  // 3. Verify by reading back.
  started = performance.now();
  try {
    const { value: checks, ms } = await timed(() => driver.verify(ctx, plan));
    outcome.checks = checks;
    for (const check of checks) {
      ctx.report({ status: check.ok ? 'ok' : 'failed', text: `Verify ${check.name.toLowerCase()}: ${check.detail}`, durationMs: checks.length === 1 ? ms : undefined });
    }
    const verified = checks.every((c) => c.ok);
    if (!verified) {
      outcome.live = await driver.live(ctx).then((l) => l.current, () => undefined);
      const failed = checks.filter((c) => !c.ok).map((c) => c.name.toLowerCase());
      outcome.error = new RollbackError('VERIFY_FAILED', `Verification failed for ${plan.target} (${failed.join(', ')}).`, {
        hint: `The change to ${plan.to.label} was made but is not healthy: look at ${plan.resource} directly before anything else.`,
      });
      outcome.status = 'failed';
      return outcome;
    }
    outcome.live = plan.to;
    if (outcome.status !== 'already-done') outcome.status = 'succeeded';
    return outcome;
  } catch (error) {
    outcome.status = 'failed';
    // After a change, what was read before it says nothing about what is live now.
    if (outcome.changed) outcome.live = undefined;
    return fail(error, 'Could not verify', performance.now() - started);
  }
}
