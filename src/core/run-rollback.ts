import type { Logger } from '../log.js';
import { breakGlassApprovalText } from './break-glass.js';
import { RollbackError, toRollbackError } from './errors.js';
import { type ExecutionOutcome, executePlan, failedOutcome, isAt } from './executor.js';
import type { FreezeStore } from './freeze.js';
import type { DriverContext, FollowUp, RollbackDriver } from './ports/driver.js';
import type { RollbackJobData } from './ports/queue.js';
import { FINAL_STATES, type FollowUpRef, type RequestStore } from './request.js';
import { REVERT_BRANCH, type SymmetryRestorer } from './symmetry.js';
import { command, plainText, type Text, text } from './text.js';
import { TimelineWriter } from './timeline.js';
import type { Plan, StepReport, VersionInfo } from './types.js';

export interface FinishedRollback {
  job: RollbackJobData;
  outcome: ExecutionOutcome;
  /** From approval to the end: what the runbook's budget is measured against. */
  sinceApprovalMs: number;
  /** From the worker starting to the end. */
  runMs: number;
  /** What a person may do next, each with its own approval (offered after a verified rollback). */
  followUps: FollowUp[];
}

/** Where progress goes (a Slack thread, a terminal). Calls never block the rollback. */
export interface ProgressReporter {
  report(step: StepReport): void;
  finish(result: FinishedRollback): void;
  /** Resolves when everything reported so far was delivered or given up on. */
  flush(): Promise<void>;
  /**
   * Optional: resolves once the people following the rollback have been told it is starting (the
   * runbook's first step, "notify the team"). The change waits for it, at most ANNOUNCE_WAIT_MS; reads do not.
   */
  announced?(): Promise<void>;
}

/** The longest the change itself waits for the announcement: Slack being slow must not hold a rollback. */
export const ANNOUNCE_WAIT_MS = 1_500;

export interface RunRollbackDeps {
  store: RequestStore;
  /** The driver this worker's rollback.yml gives the plan's target; undefined when it names no such target. */
  driver: RollbackDriver | undefined;
  reporter: ProgressReporter;
  log: Logger;
  signal: AbortSignal;
  now?: () => number;
  symmetry?: SymmetryRestorer | undefined;
  /**
   * Right before the change (and before a follow-up runs): confirms this run still holds its job and
   * holds it a while longer, or throws LeaseLostError. Two live workers can then never both make the change:
   * one that was paused past its lock finds the job taken over and stops.
   */
  holdLease?: (() => Promise<void>) | undefined;
  /** See ExecuteOptions.lateChangeRecheckMs. */
  lateChangeRecheckMs?: number | undefined;
  /** Where the target's freeze goes once the change is applied (the deploy gate reads it). */
  freezes?: FreezeStore | undefined;
}

/** Everything a person may do after this rollback: the driver's follow-ups and the revert branch. */
export function followUpsFor(driver: RollbackDriver, symmetry: SymmetryRestorer | undefined, plan: Plan): FollowUp[] {
  const revert = symmetry?.offer(plan.target, plan);
  return [...(revert ? [revert] : []), ...(driver.followUps?.(plan) ?? [])];
}

/**
 * Runs one approved rollback job. Safe to run twice for the same request: it acts only for a request that is
 * approved (or its own run, resumed) and holds its target's lock; a request that was running when its worker
 * died is re-planned against the live state by executePlan, which never repeats a change that already
 * happened; a follow-up whose command may already have run is not run again.
 */
export async function runRollback(job: RollbackJobData, deps: RunRollbackDeps): Promise<ExecutionOutcome | undefined> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  // Listen from the start: whether the notice was out before the change decides whether to read again.
  const announcement = trackAnnouncement(deps.reporter);
  const marked = await deps.store.markRunning(job.requestId, startedAt);
  if (!marked.ok && marked.reason === 'unknown') {
    deps.log.warn({ requestId: job.requestId }, 'job for an unknown request; nothing done');
    return undefined;
  }
  if (!marked.ok && marked.reason === 'not-approved') {
    const { state } = marked.request;
    if (FINAL_STATES.includes(state))
      deps.log.info({ requestId: job.requestId, state }, 'request already finished; nothing done');
    else
      deps.log.warn(
        { requestId: job.requestId, state },
        'job for a request that is not approved (its approval was undone?); nothing done',
      );
    return undefined;
  }
  const before = marked.request;
  const resumed = before.state === 'running';
  if (resumed) {
    deps.reporter.report({
      status: 'info',
      text: 'Picked up again after the previous worker stopped; re-reading the live state before anything else.',
    });
  } else if (marked.ok) {
    if (job.breakGlass)
      deps.reporter.report({ status: 'info', text: text`${breakGlassApprovalText(job.approver, job.breakGlass)}.` });
    deps.reporter.report({
      status: 'info',
      text: `Worker started ${Math.max(0, startedAt - job.approvedAt)} ms after approval.`,
    });
  }

  const timeline = new TimelineWriter(
    deps.store,
    job.requestId,
    (err) => deps.log.warn({ err }, 'could not write the incident record'),
    now,
  );
  timeline.record({
    kind: 'started',
    text: resumed
      ? 'picked up again after a worker stopped'
      : `worker started ${Math.max(0, startedAt - job.approvedAt)} ms after approval`,
    at: startedAt,
  });
  const ctx = {
    log: deps.log,
    signal: deps.signal,
    report: (step: StepReport) => {
      if (step.status !== 'progress')
        timeline.record({
          kind: 'step',
          text: step.text,
          ok: step.status === 'failed' ? false : step.status === 'ok' ? true : undefined,
          durationMs: step.durationMs,
        });
      deps.reporter.report(step);
    },
  };

  const refusal = marked.ok ? misfit(job.plan, deps.driver) : lockLost(job, marked.holder, resumed);
  /** Records written during the change (the freeze, a suspension) that the end of the rollback waits for. */
  const writes: Array<Promise<void>> = [];
  let outcome: ExecutionOutcome;
  let autoReverted = false;
  if (refusal || !deps.driver) {
    const error = refusal ?? misfit(job.plan, undefined)!;
    ctx.report({ status: 'failed', text: error.userText() });
    outcome = failedOutcome(error);
  } else if (job.followUp) {
    outcome = await runFollowUp(job.followUp, job, { ...deps, driver: deps.driver }, ctx, timeline, now);
  } else {
    const beforeChange = () => waitForAnnouncement(announcement, deps.signal, ctx.report);
    outcome = await executePlan(deps.driver, job.plan, ctx, {
      beforeChange,
      holdLease: deps.holdLease,
      lateChangeRecheckMs: deps.lateChangeRecheckMs,
      // Written at once but not waited for: a Redis outage must not hold the verification (the worker's store
      // waits Redis out). The rollback ends only once they are written.
      onApplied: async () => {
        writes.push(freezeTarget(job, deps, timeline, now));
      },
      onSuspended: async (suspension) => {
        // Kept so that lifting the freeze can offer to put back exactly this.
        timeline.record({
          kind: 'gitops',
          ok: true,
          text: `suspended ${suspension.controller}: ${suspension.description}`,
        });
        const kept = deps.freezes?.recordSuspension({
          requestId: job.requestId,
          target: job.plan.target,
          suspension,
        });
        if (kept)
          writes.push(
            kept.catch((err: unknown) =>
              deps.log.error({ err }, 'could not keep what was suspended of the GitOps controller'),
            ),
          );
      },
    });
    const revert =
      outcome.status !== 'failed' && outcome.status !== 'stale' && deps.symmetry?.auto(job.plan.target)
        ? deps.symmetry.offer(job.plan.target, job.plan)
        : undefined;
    if (revert) {
      const reverted = await runFollowUp(
        { ...revert, parentId: job.requestId },
        job,
        { ...deps, driver: deps.driver },
        ctx,
        timeline,
        now,
      );
      if (reverted.status === 'succeeded')
        ctx.report({ status: 'ok', text: `${revert.label}: ${reverted.checks[0]?.detail ?? 'done'}` });
      autoReverted = true;
    }
  }
  await Promise.all(writes);
  const finishedAt = now();
  const state = outcome.status === 'stale' ? 'stale' : outcome.status === 'failed' ? 'failed' : 'succeeded';
  // Whenever the change is in place, verified or not, the rollback counts: no undo from the same pipeline.
  if (outcome.applied && !job.followUp) {
    await deps.store.recordRollback({
      requestId: job.requestId,
      target: job.plan.target,
      from: job.plan.from,
      to: job.plan.to,
      at: new Date(finishedAt).toISOString(),
      by: job.approver,
    });
  }
  const summary = outcome.error ? outcome.error.text : text`${job.plan.target} is on ${job.plan.to.label}`;
  timeline.record({
    kind: 'finished',
    at: finishedAt,
    ok: state === 'succeeded',
    text: text`${state}: ${summary}`,
    durationMs: finishedAt - job.approvedAt,
    checks: outcome.checks,
  });
  await timeline.flush();
  await deps.store.finish(job.requestId, state, plainText(summary), finishedAt);
  const followUps =
    state === 'succeeded' && !job.followUp && deps.driver
      ? followUpsFor(deps.driver, deps.symmetry, job.plan).filter((f) => !(autoReverted && f.id === REVERT_BRANCH))
      : [];
  deps.reporter.finish({
    job,
    outcome,
    sinceApprovalMs: finishedAt - job.approvedAt,
    runMs: finishedAt - startedAt,
    followUps,
  });
  return outcome;
}

/**
 * From the moment the change is applied, verified or not, the target is frozen: the deploy gate refuses a
 * deploy that does not contain the rollback's revert (issue "deploy gate"). A failed write does not stop the
 * rollback, whose change is made: the thread says to freeze by hand.
 */
async function freezeTarget(
  job: RollbackJobData,
  deps: RunRollbackDeps,
  timeline: TimelineWriter,
  now: () => number,
): Promise<void> {
  if (!deps.freezes) return;
  const { target } = job.plan;
  const since = now();
  let line: Text;
  try {
    await deps.freezes.freeze({
      id: job.requestId,
      target,
      cause: 'rollback',
      since,
      by: job.approver,
      reason: job.reason,
      from: job.plan.from,
      restored: job.plan.to,
    });
    const unfreeze = command({ action: 'unfreeze', target });
    line = deps.symmetry?.has(target)
      ? text`🔒 ${target} is frozen: until an approved ${unfreeze}, the deploy gate lets out only a commit that contains this rollback's revert.`
      : text`🔒 ${target} is frozen: the deploy gate refuses every deploy until an approved ${unfreeze}.`;
    timeline.record({ kind: 'frozen', at: since, text: line });
  } catch (error) {
    deps.log.error({ err: error, target }, 'could not freeze the target after its rollback');
    line = text`⚠️ Could not freeze ${target} (${toRollbackError(error).message}): the deploy gate does not hold it. Freeze it by hand: ${command({ action: 'freeze', target })}.`;
    timeline.record({ kind: 'frozen', at: since, ok: false, text: line });
  }
  deps.reporter.report({ status: 'info', text: line });
}

/** Why this worker must not carry out the plan: its rollback.yml maps the target elsewhere, or not at all. */
function misfit(plan: Plan, driver: RollbackDriver | undefined): RollbackError | undefined {
  if (!driver) {
    return new RollbackError(
      'TARGET_MISMATCH',
      `Not started: this worker's rollback.yml has no target "${plan.target}", so it cannot carry out the plan for ${plan.resource}. Nothing was changed.`,
      {
        hint: "Run the bot's workers with the rollback.yml the request was made with, then request the rollback again.",
      },
    );
  }
  const planned = plan.identity ?? plan.resource;
  const mine = plan.identity ? driver.identity : undefined;
  if (mine === undefined || planned === mine) return undefined;
  return new RollbackError(
    'TARGET_MISMATCH',
    `Not started: the plan was made for ${plan.resource} (${planned}), but this worker's rollback.yml maps ${plan.target} to ${mine}. Nothing was changed.`,
    {
      hint: 'Two configurations share one Redis and prefix under the same target name: give each its own REDIS_PREFIX, then request the rollback again.',
    },
  );
}

/** Another request holds the target's lock: this one must not act. */
function lockLost(job: RollbackJobData, holder: string | undefined, resumed: boolean): RollbackError {
  const who = holder ? `request ${holder}` : 'no request';
  return new RollbackError(
    'TARGET_LOCKED',
    resumed
      ? `Stopped: ${job.plan.target}'s lock is now held by ${who}, not this rollback, so this run changes nothing. An earlier run of this rollback may have changed ${job.plan.target}.`
      : `Not started: ${job.plan.target}'s lock is held by ${who}, not this approved rollback, so it did not run. Nothing was changed.`,
    {
      hint: text`Check what is live (${command({ action: 'status' })}), then request the rollback again if it is still needed.`,
    },
  );
}

interface Announcement {
  /** Whether the people following were told before now. */
  done: boolean;
  wait(): Promise<void>;
}

function trackAnnouncement(reporter: ProgressReporter): Announcement | undefined {
  if (!reporter.announced) return undefined;
  const promise = reporter.announced();
  const tracked: Announcement = { done: false, wait: () => promise };
  void promise.then(() => {
    tracked.done = true;
  });
  return tracked;
}

/**
 * Notify first, but briefly: the change waits at most ANNOUNCE_WAIT_MS for the announcement. True when it
 * had to wait (the live state is then read again before the change).
 */
async function waitForAnnouncement(
  announcement: Announcement | undefined,
  signal: AbortSignal,
  report: (step: StepReport) => void,
): Promise<boolean> {
  if (!announcement || announcement.done) return false;
  let timer: NodeJS.Timeout | undefined;
  const told = await Promise.race([
    announcement.wait().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ANNOUNCE_WAIT_MS))),
  ]).finally(() => clearTimeout(timer));
  signal.throwIfAborted();
  if (!told)
    report({
      status: 'info',
      text: `The "Rolling back" notice is not out after ${ANNOUNCE_WAIT_MS / 1000} s; rolling back without waiting longer (it follows when it can).`,
    });
  return true;
}

/**
 * A follow-up is a change like any other, run at most once per approval: it runs only while the version its
 * rollback restored is still live, and a run resumed after its worker stopped does not run a command that
 * may already have run (a revert branch, which is safe to make again, is the exception).
 */
async function runFollowUp(
  followUp: FollowUpRef,
  job: RollbackJobData,
  deps: RunRollbackDeps & { driver: RollbackDriver },
  ctx: DriverContext,
  timeline: TimelineWriter,
  now: () => number,
): Promise<ExecutionOutcome> {
  const outcome = failedOutcome();
  const refuse = (error: RollbackError, status: 'failed' | 'stale' = 'failed') => {
    ctx.report({ status: 'failed', text: error.userText() });
    outcome.status = status;
    outcome.error = error;
    return outcome;
  };
  const symmetry = followUp.id === REVERT_BRANCH ? deps.symmetry : undefined;
  const driverRun = deps.driver.runFollowUp?.bind(deps.driver);
  const run = symmetry
    ? () => symmetry.run(ctx, job)
    : driverRun
      ? () => driverRun(ctx, job.plan, followUp.id)
      : undefined;
  if (!run)
    return refuse(new RollbackError('PROVIDER_REJECTED', `${job.plan.target} has no follow-up "${followUp.id}".`));

  try {
    const live = await deps.driver.live(ctx);
    outcome.live = live.current;
    if (!isAt(live.current, job.plan.to)) return refuse(followUpStale(followUp, job.plan, live.current), 'stale');
  } catch (error) {
    return refuse(
      new RollbackError(
        toRollbackError(error).code,
        `${followUp.label} not run: could not read ${job.plan.target} to check that ${job.plan.to.label} is still live (${toRollbackError(error).message}). Nothing was run.`,
      ),
    );
  }
  await deps.holdLease?.();
  const first = await deps.store.markActing(job.requestId, now());
  if (!first && !symmetry) {
    return refuse(
      new RollbackError(
        'OUTCOME_UNKNOWN',
        `${followUp.label} not run again: the worker running it stopped, and \`${followUp.description}\` may already have run. Whether it finished is not known.`,
        {
          hint: "Check by hand before anything else (for a migration: the migrator pod's logs and the database's migration state), then run it yourself if it did not happen.",
        },
      ),
    );
  }
  ctx.report({ status: 'info', text: `Running: ${followUp.description}` });
  const started = performance.now();
  try {
    const result = await run();
    outcome.changed = true;
    outcome.applied = true;
    if (symmetry && result.revert) {
      // The gate now lets out a commit that contains this revert.
      await deps.freezes
        ?.attachRevert(job.plan.target, followUp.parentId, result.revert)
        .catch((err: unknown) => deps.log.warn({ err }, 'could not note the revert on the freeze'));
    }
    const event = symmetry
      ? { kind: 'revert-branch' as const, ok: result.ok, text: result.detail, commits: result.commits }
      : { kind: 'follow-up' as const, ok: result.ok, text: `${followUp.label}: ${result.detail}` };
    timeline.record(event);
    // The rollback's own record tells the whole story, follow-ups included.
    if (followUp.parentId !== job.requestId) {
      await deps.store
        .append(followUp.parentId, { ...event, at: Date.now() })
        .catch((err: unknown) => deps.log.warn({ err }, 'could not write the incident record'));
    }
    outcome.checks = [{ name: followUp.label, ok: result.ok, detail: result.detail }];
    if (result.output) ctx.report({ status: 'info', text: `Output:\n\`\`\`\n${result.output}\n\`\`\`` });
    // Success is told once, by the finishing message; a failure is a step of its own.
    if (!result.ok)
      ctx.report({
        status: 'failed',
        text: `${followUp.label}: ${result.detail}`,
        durationMs: performance.now() - started,
      });
    outcome.status = result.ok ? 'succeeded' : 'failed';
    if (!result.ok)
      outcome.error = new RollbackError('VERIFY_FAILED', `${followUp.label} failed: ${result.detail}.`, {
        hint: 'Look at the migrator pod and the database before trying again.',
      });
  } catch (error) {
    outcome.error = toRollbackError(error);
    ctx.report({
      status: 'failed',
      text: text`${followUp.label} could not run: ${outcome.error.userText()}`,
      durationMs: performance.now() - started,
    });
  }
  return outcome;
}

/** The version a follow-up was meant for is no longer live. Shared by the request and the run. */
export function followUpStale(
  followUp: { label: string; parentId: string },
  plan: Plan,
  live: VersionInfo,
): RollbackError {
  return new RollbackError(
    'PLAN_STALE',
    `${followUp.label} not run: ${plan.target} is now on ${live.label}, no longer on ${plan.to.label}, which rollback ${followUp.parentId} restored. It was meant for that rollback, so nothing was run.`,
    { hint: text`Look at what is live (${command({ action: 'status' })}) and decide by hand.` },
  );
}
