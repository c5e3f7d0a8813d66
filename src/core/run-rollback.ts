import type { Logger } from '../log.js';
import type { FollowUp, RollbackDriver } from '../drivers/types.js';
import { RollbackError, toRollbackError } from './errors.js';
import { executePlan, type ExecutionOutcome } from './executor.js';
import { FINAL_STATES, type FollowUpRef, type RequestStore, type RollbackRequest, type ThreadRef } from './request.js';
import { REVERT_BRANCH, type SymmetryRestorer } from './symmetry.js';
import { TimelineWriter } from './timeline.js';
import type { Plan, StepReport } from './types.js';
import type { DriverContext } from '../drivers/types.js';

/** What a queued rollback carries: the plan pinned at approval, and who decided. */
export interface RollbackJobData {
  requestId: string;
  plan: Plan;
  requester: string;
  approver: string;
  approvedAt: number;
  reason: string;
  thread?: ThreadRef | undefined;
  /** The notice was still on its way to Slack when the job was queued: its thread will be in the store. */
  threadPending?: boolean | undefined;
  /** Set when this job is a follow-up (a migration revert), not the rollback itself. */
  followUp?: FollowUpRef | undefined;
}

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
  driver: RollbackDriver;
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
  fence?: (() => Promise<void>) | undefined;
}

/** Everything a person may do after this rollback: the driver's follow-ups and the revert branch. */
export function followUpsFor(driver: RollbackDriver, symmetry: SymmetryRestorer | undefined, plan: Plan): FollowUp[] {
  const revert = symmetry?.offer(plan.target, plan);
  return [...(revert ? [revert] : []), ...(driver.followUps?.(plan) ?? [])];
}

/**
 * Runs one approved rollback job. Safe to run twice for the same request: a finished request is left
 * alone, and a request that was running when its worker died is re-planned against the live state by
 * executePlan, which never repeats a change that already happened.
 */
export async function runRollback(job: RollbackJobData, deps: RunRollbackDeps): Promise<ExecutionOutcome | undefined> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const before: RollbackRequest | undefined = await deps.store.markRunning(job.requestId, startedAt);
  if (!before) {
    deps.log.warn({ requestId: job.requestId }, 'job for an unknown request; nothing done');
    return undefined;
  }
  if (FINAL_STATES.includes(before.state)) {
    deps.log.info({ requestId: job.requestId, state: before.state }, 'request already finished; nothing done');
    return undefined;
  }
  if (before.state === 'running') {
    deps.reporter.report({ status: 'info', text: 'Picked up again after the previous worker stopped; re-reading the live state before anything else.' });
  } else {
    deps.reporter.report({ status: 'info', text: `Worker started ${Math.max(0, startedAt - job.approvedAt)} ms after approval.` });
  }

  const timeline = new TimelineWriter(deps.store, job.requestId, (err) => deps.log.warn({ err }, 'could not write the incident record'), now);
  timeline.record({ kind: 'started', text: before.state === 'running' ? 'picked up again after a worker stopped' : `worker started ${Math.max(0, startedAt - job.approvedAt)} ms after approval`, at: startedAt });
  const ctx = {
    log: deps.log,
    signal: deps.signal,
    report: (step: StepReport) => {
      if (step.status !== 'progress') timeline.record({ kind: 'step', text: step.text, ok: step.status === 'failed' ? false : step.status === 'ok' ? true : undefined, durationMs: step.durationMs });
      deps.reporter.report(step);
    },
  };
  const beforeChange = async () => {
    await waitForAnnouncement(deps.reporter, deps.signal, ctx.report);
    await deps.fence?.();
  };
  const outcome = job.followUp ? await runFollowUp(job.followUp, job, deps, ctx, timeline) : await executePlan(deps.driver, job.plan, ctx, { beforeChange });
  let autoReverted = false;
  if (!job.followUp && outcome.status !== 'failed' && outcome.status !== 'stale' && deps.symmetry?.auto(job.plan.target)) {
    const revert = deps.symmetry.offer(job.plan.target, job.plan);
    if (revert) {
      const reverted = await runFollowUp({ ...revert, parentId: job.requestId }, job, deps, ctx, timeline);
      if (reverted.status === 'succeeded') ctx.report({ status: 'ok', text: `${revert.label}: ${reverted.checks[0]?.detail ?? 'done'}` });
      autoReverted = true;
    }
  }
  const finishedAt = now();
  const state = outcome.status === 'stale' ? 'stale' : outcome.status === 'failed' ? 'failed' : 'succeeded';
  if (state === 'succeeded' && !job.followUp) {
    await deps.store.recordRollback({
      requestId: job.requestId,
      target: job.plan.target,
      from: job.plan.from,
      to: job.plan.to,
      at: new Date(finishedAt).toISOString(),
      by: job.approver,
    });
  }
  const summary = outcome.error ? outcome.error.message : `${job.plan.target} is on ${job.plan.to.label}`;
  timeline.record({ kind: 'finished', at: finishedAt, ok: state === 'succeeded', text: `${state}: ${summary}`, durationMs: finishedAt - job.approvedAt, checks: outcome.checks });
  await timeline.flush();
  await deps.store.finish(job.requestId, state, summary, finishedAt);
  const followUps =
    state === 'succeeded' && !job.followUp ? followUpsFor(deps.driver, deps.symmetry, job.plan).filter((f) => !(autoReverted && f.id === REVERT_BRANCH)) : [];
  deps.reporter.finish({ job, outcome, sinceApprovalMs: finishedAt - job.approvedAt, runMs: finishedAt - startedAt, followUps });
  return outcome;
}

/** Notify first, but briefly: the change waits at most ANNOUNCE_WAIT_MS for the announcement. */
async function waitForAnnouncement(reporter: ProgressReporter, signal: AbortSignal, report: (step: StepReport) => void): Promise<void> {
  if (!reporter.announced) return;
  let timer: NodeJS.Timeout | undefined;
  const told = await Promise.race([
    reporter.announced().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ANNOUNCE_WAIT_MS))),
  ]).finally(() => clearTimeout(timer));
  signal.throwIfAborted();
  if (!told) report({ status: 'info', text: `Slack has not taken the "Rolling back" notice after ${ANNOUNCE_WAIT_MS / 1000} s; rolling back without waiting longer (it follows when Slack does).` });
}

/** A follow-up runs once, like the rollback: its result is reported, never retried. */
async function runFollowUp(followUp: FollowUpRef, job: RollbackJobData, deps: RunRollbackDeps, ctx: DriverContext, timeline: TimelineWriter): Promise<ExecutionOutcome> {
  const outcome: ExecutionOutcome = { status: 'failed', live: undefined, checks: [], error: undefined, changed: false };
  const symmetry = followUp.id === REVERT_BRANCH ? deps.symmetry : undefined;
  const driverRun = deps.driver.runFollowUp?.bind(deps.driver);
  const run = symmetry ? () => symmetry.run(ctx, job) : driverRun ? () => driverRun(ctx, job.plan, followUp.id) : undefined;
  if (!run) {
    outcome.error = new RollbackError('PROVIDER_REJECTED', `${job.plan.target} has no follow-up "${followUp.id}".`);
    return outcome;
  }
  await deps.fence?.();
  ctx.report({ status: 'info', text: `Running: ${followUp.description}` });
  const started = performance.now();
  try {
    const result = await run();
    outcome.changed = true;
    const event = symmetry
      ? { kind: 'revert-branch' as const, ok: result.ok, text: result.detail, commits: result.commits }
      : { kind: 'follow-up' as const, ok: result.ok, text: `${followUp.label}: ${result.detail}` };
    timeline.record(event);
    // The rollback's own record tells the whole story, follow-ups included.
    if (followUp.parentId !== job.requestId) {
      await deps.store.append(followUp.parentId, { ...event, at: Date.now() }).catch((err: unknown) => deps.log.warn({ err }, 'could not write the incident record'));
    }
    outcome.checks = [{ name: followUp.label, ok: result.ok, detail: result.detail }];
    if (result.output) ctx.report({ status: 'info', text: `Output:\n\`\`\`\n${result.output}\n\`\`\`` });
    // Success is told once, by the finishing message; a failure is a step of its own.
    if (!result.ok) ctx.report({ status: 'failed', text: `${followUp.label}: ${result.detail}`, durationMs: performance.now() - started });
    outcome.status = result.ok ? 'succeeded' : 'failed';
    if (!result.ok) outcome.error = new RollbackError('VERIFY_FAILED', `${followUp.label} failed: ${result.detail}.`, { hint: 'Look at the migrator pod and the database before trying again.' });
  } catch (error) {
    outcome.error = toRollbackError(error);
    ctx.report({ status: 'failed', text: `${followUp.label} could not run: ${outcome.error.toUserText()}`, durationMs: performance.now() - started });
  }
  return outcome;
}
