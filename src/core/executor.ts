import { sleep } from './abortable.js';
import { RollbackError, toRollbackError } from './errors.js';
import { LeaseLostError } from './lease.js';
import type { DriverContext, GitOpsSuspension, LiveState, RollbackDriver } from './ports/driver.js';
import { command, text } from './text.js';
import type { Plan, VerifyCheck, VersionInfo } from './types.js';

type ExecutionStatus = 'succeeded' | 'already-done' | 'stale' | 'failed';

export interface ExecutionOutcome {
  status: ExecutionStatus;
  /** What the provider said was live last, when it was read. */
  live: VersionInfo | undefined;
  checks: VerifyCheck[];
  error: RollbackError | undefined;
  /** True when this run made the provider call that changes things. */
  changed: boolean;
  /**
   * True when the change is in place, whoever made it: this run, an earlier run of the same job (found
   * already done), or a call whose answer was lost. Verified or not, such a rollback counts (no-undo,
   * diverged, its record); only a rollback that changed nothing does not.
   */
  applied: boolean;
}

/** An outcome that changed nothing yet: the start of every run, and a run refused before it acted. */
export function failedOutcome(error?: RollbackError): ExecutionOutcome {
  return { status: 'failed', live: undefined, checks: [], error, changed: false, applied: false };
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
  /**
   * Runs after the first stale-plan check and before the change, only when there is a change to make (the
   * runbook's "notify first"). Resolves true when it had to wait: the live state is then read again, so the
   * read that decides is always the last thing before the change.
   */
  beforeChange?: (() => Promise<boolean>) | undefined;
  /** Right before the change, after the deciding read: confirms this run still holds its job (see lease.ts). */
  holdLease?: (() => Promise<void>) | undefined;
  /** How long to wait before reading again after a change whose answer never came. */
  lateChangeRecheckMs?: number | undefined;
  /**
   * Called once the change is known to be in place (made now, found landed late, or made by an earlier run),
   * before verification: the target is frozen from that moment. Must not throw.
   */
  onApplied?: (() => Promise<void>) | undefined;
  /** Called with what the driver suspended of a GitOps controller before the change, to keep it. Must not throw. */
  onSuspended?: ((suspension: GitOpsSuspension) => Promise<void>) | undefined;
}

/** A provider may apply a change whose answer was lost a few seconds late (Fastly activations take seconds). */
const LATE_CHANGE_RECHECK_MS = 5_000;

/**
 * The call's outcome is unknown: no answer, a dropped connection, a 5xx. A definite refusal is not, nor a
 * failure the driver proved changed nothing (`details.uncertain: false`, e.g. read back after each try).
 */
function outcomeUnknown(error: RollbackError): boolean {
  if (typeof error.details.uncertain === 'boolean') return error.details.uncertain;
  return error.code === 'PROVIDER_TIMEOUT' || error.code === 'PROVIDER_UNAVAILABLE';
}

export async function executePlan(
  driver: RollbackDriver,
  plan: Plan,
  ctx: DriverContext,
  options: ExecuteOptions = {},
): Promise<ExecutionOutcome> {
  const outcome = failedOutcome();
  const fail = (error: unknown, what: string, ms?: number) => {
    const coded = toRollbackError(error);
    ctx.report({ status: 'failed', text: text`${what}: ${coded.userText()}`, durationMs: ms });
    outcome.error = coded;
    return outcome;
  };

  // 1. The stale-plan check. It may run while Slack takes the notice; if anything waits after it, it runs again.
  let decided: LiveState;
  let started = performance.now();
  try {
    const check = await checkPlan(driver, plan, ctx, outcome, false);
    if (!check) return outcome;
    decided = check;
  } catch (error) {
    return fail(
      error,
      `Could not read ${plan.target} before acting, so nothing was changed`,
      performance.now() - started,
    );
  }

  // 2. The change itself, once.
  const alreadyDone = () => outcome.status === 'already-done';
  if (!alreadyDone()) {
    try {
      if (await options.beforeChange?.()) {
        started = performance.now();
        const check = await checkPlan(driver, plan, ctx, outcome, true).catch((error: unknown) => {
          fail(
            error,
            `Could not read ${plan.target} again right before acting, so nothing was changed`,
            performance.now() - started,
          );
          return undefined;
        });
        if (!check) return outcome;
        decided = check;
      }
      if (!alreadyDone()) await options.holdLease?.();
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      return fail(error, 'Stopped before the change, so nothing was changed');
    }
  }
  if (!alreadyDone() && driver.suspendGitOps) {
    // A GitOps controller would put the old version back within minutes: stop it first, or change nothing.
    started = performance.now();
    try {
      const suspension = await driver.suspendGitOps(ctx, plan);
      if (suspension) {
        ctx.report({
          status: 'ok',
          text: `Suspended ${suspension.controller}: ${suspension.description}`,
          durationMs: performance.now() - started,
        });
        await options.onSuspended?.(suspension);
      }
    } catch (error) {
      return fail(
        error,
        'Could not suspend the GitOps controller, so nothing was changed',
        performance.now() - started,
      );
    }
  }
  if (!alreadyDone()) {
    started = performance.now();
    try {
      await driver.execute(ctx, plan, decided);
      outcome.changed = true;
      outcome.applied = true;
      ctx.report({ status: 'ok', text: plan.actionDone, durationMs: performance.now() - started });
      await options.onApplied?.();
    } catch (error) {
      fail(error, `Rolling back to ${plan.to.label} failed`, performance.now() - started);
      const landed = await findOutIfApplied(
        driver,
        plan,
        ctx,
        outcome,
        options.lateChangeRecheckMs ?? LATE_CHANGE_RECHECK_MS,
      );
      if (!landed) return outcome;
      outcome.changed = true;
      outcome.applied = true;
      outcome.error = undefined;
      await options.onApplied?.();
    }
  } else {
    outcome.applied = true;
    await options.onApplied?.();
  }

  // 3. Verify by reading back.
  started = performance.now();
  try {
    const { value: checks, ms } = await timed(() => driver.verify(ctx, plan));
    outcome.checks = checks;
    for (const check of checks) {
      ctx.report({
        status: check.ok ? 'ok' : 'failed',
        text: `Verify ${check.name.toLowerCase()}: ${check.detail}`,
        durationMs: checks.length === 1 ? ms : undefined,
      });
    }
    const verified = checks.every((c) => c.ok);
    if (!verified) {
      outcome.live = await driver.live(ctx).then(
        (l) => l.current,
        () => undefined,
      );
      const failed = checks.filter((c) => !c.ok).map((c) => c.name.toLowerCase());
      outcome.error = new RollbackError(
        'VERIFY_FAILED',
        `Verification failed for ${plan.target} (${failed.join(', ')}).`,
        {
          hint: `The change to ${plan.to.label} was made but is not healthy: look at ${plan.resource} directly before anything else.`,
        },
      );
      outcome.status = 'failed';
      return outcome;
    }
    outcome.live = plan.to;
    if (!alreadyDone()) outcome.status = 'succeeded';
    return outcome;
  } catch (error) {
    outcome.status = 'failed';
    // After a change, what was read before it says nothing about what is live now.
    if (outcome.changed) outcome.live = undefined;
    return fail(error, 'Could not verify', performance.now() - started);
  }
}

/**
 * Reads the live state and compares it with the plan. Returns the read when the plan holds (or the work is
 * already done, with `outcome.status` 'already-done'); undefined when it went stale (reported, nothing changed).
 */
async function checkPlan(
  driver: RollbackDriver,
  plan: Plan,
  ctx: DriverContext,
  outcome: ExecutionOutcome,
  again: boolean,
): Promise<LiveState | undefined> {
  const { value: live, ms } = await timed(() => driver.live(ctx));
  outcome.live = live.current;
  if (isAt(live.current, plan.to)) {
    ctx.report({
      status: 'info',
      text: `${plan.to.label} is already live on ${live.resource}: nothing to activate, verifying.`,
      durationMs: ms,
    });
    outcome.status = 'already-done';
    return live;
  }
  if (live.current.id !== plan.from.id) {
    const error = new RollbackError(
      'PLAN_STALE',
      `Stopped: the plan was made when ${plan.from.label} was live, but ${live.resource} now has ${live.current.label}${again ? ' (read again right before the change)' : ''}. Nothing was changed.`,
      {
        hint: text`Someone deployed or rolled back since. Run ${command({ action: 'plan', target: plan.target })} again for a fresh plan.`,
      },
    );
    ctx.report({ status: 'failed', text: error.userText(), durationMs: ms });
    outcome.status = 'stale';
    outcome.error = error;
    return undefined;
  }
  if (!again)
    ctx.report({
      status: 'ok',
      text: `Checked: ${plan.from.label} is live on ${live.resource}, as planned`,
      durationMs: ms,
    });
  return live;
}

/**
 * After a change call failed: did it happen anyway? A definite refusal changed nothing. A call whose answer
 * never came may still land late, so "nothing changed" is never said as a fact: the thread says what the
 * re-read shows, and the service is read once more after `recheckMs`.
 */
async function findOutIfApplied(
  driver: RollbackDriver,
  plan: Plan,
  ctx: DriverContext,
  outcome: ExecutionOutcome,
  recheckMs: number,
): Promise<boolean> {
  const unknown = outcome.error !== undefined && outcomeUnknown(outcome.error);
  const read = async () => (await driver.live(ctx)).current;
  try {
    let live = await read();
    outcome.live = live;
    if (!isAt(live, plan.to) && unknown) {
      ctx.report({
        status: 'info',
        text: `Re-read: ${live.label} is still live, but the answer to the change never came, so ${plan.to.label} may still go live late: reading again in ${recheckMs / 1000} s.`,
      });
      await sleep(recheckMs, ctx.signal);
      live = await read();
      outcome.live = live;
    }
    if (isAt(live, plan.to)) {
      ctx.report({ status: 'ok', text: `Re-read: ${plan.to.label} is live after all; verifying.` });
      return true;
    }
    ctx.report({
      status: 'info',
      text: unknown
        ? `Re-read after ${recheckMs / 1000} s: ${live.label} is still live; ${plan.to.label} did not go live. Look at ${plan.resource} before trying again: a late change is unlikely but not impossible.`
        : `Re-read: ${live.label} is still live; nothing changed.`,
    });
    return false;
  } catch {
    ctx.report({ status: 'failed', text: `Could not re-read ${plan.target}: check it by hand before trying again.` });
    return false;
  }
}
