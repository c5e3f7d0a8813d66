import type { Logger } from '../log.js';
import type { RollbackDriver } from '../drivers/types.js';
import { executePlan, type ExecutionOutcome } from './executor.js';
import { FINAL_STATES, type RequestStore, type RollbackRequest, type ThreadRef } from './request.js';
import type { Plan, StepReport } from './types.js';

/** What a queued rollback carries: the plan pinned at approval, and who decided. */
export interface RollbackJobData {
  requestId: string;
  plan: Plan;
  requester: string;
  approver: string;
  approvedAt: number;
  reason: string;
  thread?: ThreadRef | undefined;
}

export interface FinishedRollback {
  job: RollbackJobData;
  outcome: ExecutionOutcome;
  /** From approval to the end: what the runbook's budget is measured against. */
  sinceApprovalMs: number;
  /** From the worker starting to the end. */
  runMs: number;
}

/** Where progress goes (a Slack thread, a terminal). Calls never block the rollback. */
export interface ProgressReporter {
  report(step: StepReport): void;
  finish(result: FinishedRollback): void;
  /** Resolves when everything reported so far was delivered or given up on. */
  flush(): Promise<void>;
}

export interface RunRollbackDeps {
  store: RequestStore;
  driver: RollbackDriver;
  reporter: ProgressReporter;
  log: Logger;
  signal: AbortSignal;
  now?: () => number;
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

  const outcome = await executePlan(deps.driver, job.plan, { log: deps.log, signal: deps.signal, report: (step) => deps.reporter.report(step) });
  const finishedAt = now();
  const state = outcome.status === 'stale' ? 'stale' : outcome.status === 'failed' ? 'failed' : 'succeeded';
  if (state === 'succeeded') {
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
  await deps.store.finish(job.requestId, state, summary, finishedAt);
  deps.reporter.finish({ job, outcome, sinceApprovalMs: finishedAt - job.approvedAt, runMs: finishedAt - startedAt });
  return outcome;
}
