import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_WORKER_CONCURRENCY } from '../config/env.js';
import type { BatchReporter, BatchStore } from '../core/batch.js';
import { noteMemberEnded } from '../core/batch-progress.js';
import { RollbackError, toRollbackError } from '../core/errors.js';
import { failedOutcome } from '../core/executor.js';
import type { FreezeStore } from '../core/freeze.js';
import { LeaseLostError } from '../core/lease.js';
import type { RollbackDriver } from '../core/ports/driver.js';
import type { RollbackJobData } from '../core/ports/queue.js';
import type { RequestStore } from '../core/request.js';
import { type ProgressReporter, runRollback } from '../core/run-rollback.js';
import type { SymmetryRestorer } from '../core/symmetry.js';
import type { Logger } from '../log.js';
import { JOB_NAME, QUEUE_NAME, rollbackJobSchema } from './job-schema.js';

export interface WorkerOptions {
  /** Needs `maxRetriesPerRequest: null` (BullMQ blocks on Redis). */
  connection: Redis;
  prefix?: string;
  concurrency?: number;
  store: RequestStore;
  /** The driver this worker's rollback.yml gives a target; undefined for a target it does not name. */
  driverOfTarget(target: string): RollbackDriver | undefined;
  /** The queue to work on: the shared one (default), or a request's dedicated queue (the CLI's own run). */
  queueName?: string | undefined;
  reporterFor(job: RollbackJobData, log: Logger): ProgressReporter;
  log: Logger;
  /** How long the thread may lag behind once the rollback is done before the job completes anyway. */
  flushTimeoutMs?: number;
  /** Revert branches (src/git), for targets with `git:` settings. */
  symmetry?: SymmetryRestorer | undefined;
  /** Where a rollback freezes its target once its change is applied. */
  freezes?: FreezeStore | undefined;
  /**
   * How long a running job's lock lasts without renewal (BullMQ's lockDuration); the stalled check runs
   * every half of it. A job whose worker died is handed to another worker 0.5 to 1.5 times this long after
   * the death (the lock is renewed every half of it). Default 10 s: BullMQ's own defaults (30 s lock, check every 30 s) took 60 s, the whole of
   * the runbook's target. Shorter: a dead worker's rollback resumes sooner; too short: a living worker whose
   * event loop stalls that long loses its job to another (the re-run re-reads before acting).
   */
  lockMs?: number | undefined;
  /** Multi-target requests: the last member to end writes the summary through `batchReporter`. */
  batches?: BatchStore | undefined;
  batchReporter?: BatchReporter | undefined;
}

const DEFAULT_LOCK_MS = 10_000;
/** A run's result when it found its lease lost before the change: another run holds the job. */
const LEASE_LOST = 'lease-lost';

function jobTimeoutMs(job: RollbackJobData): number {
  return Math.max(job.plan.budgetMs * 5, 5 * 60_000);
}

/** The consumer side: one BullMQ job = one pinned plan carried out by core/run-rollback. */
export function startRollbackWorker(options: WorkerOptions): Worker {
  const flushTimeoutMs = options.flushTimeoutMs ?? 30_000;
  const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
  // Runs under way in this process, by job id. When Redis was away longer than the lock, BullMQ hands the
  // job back as stalled although its run here goes on; a second run beside it could act on the same live
  // state, so it waits for the first instead.
  const running = new Map<string, Promise<string>>();
  const runJob = async (job: Job, token?: string): Promise<string> => {
    const id = job.id ?? '';
    const underway = running.get(id);
    if (underway) {
      options.log.warn(
        { jobId: id },
        'job handed back while its run is still under way here (lock lost, Redis was away?); waiting for that run',
      );
      const result = await underway;
      // That run lost its lease before any change, because this hand-back holds the job now: go on.
      if (result !== LEASE_LOST) return result;
    }
    const run = processOnce(job, token);
    running.set(id, run);
    try {
      return await run;
    } finally {
      if (running.get(id) === run) running.delete(id);
    }
  };
  /** The lease: still this run's job (BullMQ's lock holds our token), and held lockMs longer from now. */
  const leaseOf = (job: Job, token: string | undefined) => async () => {
    if (token === undefined) return;
    if ((await job.extendLock(token, lockMs)) !== 1) throw new LeaseLostError();
  };
  const processOnce = async (job: Job, token: string | undefined): Promise<string> => {
    if (job.name !== JOB_NAME) throw new Error(`unknown job ${job.name}`);
    const data = rollbackJobSchema.parse(job.data);
    const log = options.log.child({ requestId: data.requestId, target: data.plan.target, jobId: job.id });
    const reporter = options.reporterFor(data, log);
    const signal = AbortSignal.timeout(jobTimeoutMs(data));
    /** Whether this run ended the request (so a batch counts it). */
    let ended = false;
    try {
      const outcome = await runRollback(data, {
        store: options.store,
        driver: options.driverOfTarget(data.plan.target),
        reporter,
        log,
        signal,
        symmetry: options.symmetry,
        freezes: options.freezes,
        holdLease: leaseOf(job, token),
      });
      log.info({ status: outcome?.status ?? 'skipped' }, 'rollback job done');
      ended = outcome !== undefined;
      return outcome?.status ?? 'skipped';
    } catch (error) {
      if (error instanceof LeaseLostError) {
        log.warn(
          'lost the job before changing anything (this worker was paused past its lock); the worker holding it carries on',
        );
        reporter.report({
          status: 'info',
          text: 'A worker that had been paused came back and found this rollback taken over: it stopped without changing anything.',
        });
        return LEASE_LOST;
      }
      // Something outside the plan broke (Redis, a bug): say so where people are looking.
      const coded = toRollbackError(error);
      log.error({ err: error }, 'rollback job crashed');
      reporter.report({
        status: 'failed',
        text: `The worker hit an error it did not expect: ${coded.message}. Check ${data.plan.target} by hand before trying again.`,
      });
      await options.store.finish(data.requestId, 'failed', coded.message, Date.now()).catch(() => undefined);
      ended = true;
      throw error;
    } finally {
      if (data.batch) {
        // A member of a multi-target rollback does not hold its worker slot while its thread is written: with
        // Slack taking about one message a second in a channel, a group's members would otherwise wait for each
        // other's lines before their own rollbacks could start. The summary comes once this member's lines are out.
        const writing = reporter
          .flush()
          .then(() => (ended ? endBatchMember(data, options, log) : undefined))
          .catch((err: unknown) => log.warn({ err }, 'could not finish the thread of a multi-target member'));
        threadWrites.add(writing);
        void writing.finally(() => threadWrites.delete(writing));
      } else {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([reporter.flush(), new Promise((resolve) => (timer = setTimeout(resolve, flushTimeoutMs)))]);
        clearTimeout(timer);
      }
    }
  };
  /** Members' thread lines still on their way to Slack (see above); closing the worker waits for them a while. */
  const threadWrites = new Set<Promise<unknown>>();
  const worker = new Worker(options.queueName ?? QUEUE_NAME, runJob, {
    connection: options.connection,
    prefix: options.prefix ?? 'bull',
    concurrency: options.concurrency ?? DEFAULT_WORKER_CONCURRENCY,
    // A job whose worker died is handed to another worker once; run-rollback re-reads before acting.
    maxStalledCount: 1,
    lockDuration: lockMs,
    stalledInterval: Math.max(100, Math.round(lockMs / 2)),
  });
  worker.on('error', (err) => options.log.error({ err }, 'worker error'));
  // BullMQ fails a job whose workers died twice without running it again: the thread must end with that,
  // and the request must not look as if it were still running.
  worker.on('failed', (job, error) => {
    if (!job || !STALLED_TOO_OFTEN.test(error.message)) return;
    reportGivenUp(job, options).catch((err: unknown) =>
      options.log.error({ err, jobId: job.id }, 'could not report a rollback given up after its workers stopped'),
    );
  });
  const closeWorker = worker.close.bind(worker);
  worker.close = async (force?: boolean) => {
    await closeWorker(force);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...threadWrites]),
      new Promise((resolve) => (timer = setTimeout(resolve, flushTimeoutMs))),
    ]);
    clearTimeout(timer);
  };
  return worker;
}

/** BullMQ's words for a job that stalled more than maxStalledCount times. */
const STALLED_TOO_OFTEN = /stalled more than allowable limit/;

async function reportGivenUp(job: Job, options: WorkerOptions): Promise<void> {
  const data = rollbackJobSchema.parse(job.data);
  const log = options.log.child({ requestId: data.requestId, target: data.plan.target, jobId: job.id });
  const { plan } = data;
  const error = new RollbackError(
    'WORKERS_STOPPED',
    `Two workers stopped in the middle of this rollback, so it is not tried a third time; whether ${plan.to.label} was activated is not known.`,
    {
      hint: `Check ${plan.target} by hand before anything else (\`/rollback status\` shows what is live), then roll back again or fix forward. Then look at why the workers stopped.`,
    },
  );
  log.error('rollback given up: its workers stopped twice');
  const reporter = options.reporterFor(data, log);
  const now = Date.now();
  reporter.finish({
    job: data,
    outcome: failedOutcome(error),
    sinceApprovalMs: now - data.approvedAt,
    runMs: now - (job.processedOn ?? data.approvedAt),
    followUps: [],
  });
  await options.store.finish(data.requestId, 'failed', error.message, now);
  await reporter.flush();
  await endBatchMember(data, options, log);
}

function endBatchMember(data: RollbackJobData, options: WorkerOptions, log: Logger): Promise<void> {
  const { batches, batchReporter } = options;
  if (!batches || !batchReporter) return Promise.resolve();
  return noteMemberEnded(data, { store: options.store, batches, reporter: batchReporter, log });
}
