import type { WebClient } from '@slack/web-api';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config/load-config.js';
import { DEFAULT_DRIFT_CHECK_MS } from './config/rollback-file.js';
import { AlertProposals } from './core/alert-proposals.js';
import type { ApproverDirectory } from './core/approval.js';
import type { BatchStore } from './core/batch.js';
import { labelSteps } from './core/batch-progress.js';
import type { FreezeStore } from './core/freeze.js';
import type { RollbackDriver } from './core/ports/driver.js';
import type { ThreadNotes } from './core/ports/thread-notes.js';
import type { RequestStore, ThreadRef } from './core/request.js';
import { RollbackService } from './core/rollback-service.js';
import type { ProgressReporter } from './core/run-rollback.js';
import type { SymmetryRestorer } from './core/symmetry.js';
import { createDriver } from './drivers/registry.js';
import type { GitSettings } from './git/schema.js';
import { GitSymmetry } from './git/symmetry.js';
import { apiRoutes } from './http/api-routes.js';
import { healthRoutes } from './http/health-routes.js';
import { serveRoutes } from './http/route-server.js';
import type { Logger } from './log.js';
import { BotMetrics, REQUESTS_WINDOW_MS } from './metrics/bot-metrics.js';
import { type Readiness, redisReadiness, workerReadiness } from './metrics/readiness.js';
import { startDriftWatch } from './queue/drift-schedule.js';
import { dedicatedQueueName } from './queue/job-schema.js';
import { RollbackQueue } from './queue/rollback-queue.js';
import { startRollbackWorker } from './queue/rollback-worker.js';
import { createSlackApp, createSlackClient, type SlackSettings } from './slack/app.js';
import { SlackApproverDirectory } from './slack/approver-directory.js';
import { slackBatchReporter } from './slack/batch-reporter.js';
import { DeferredReporter, waitForThread } from './slack/deferred-reporter.js';
import { slackProposalBoard } from './slack/proposal-board.js';
import { redisSeenSignatures } from './slack/replay-guard.js';
import { slackThreadNotes } from './slack/thread-notes.js';
import { SlackThreadReporter } from './slack/thread-reporter.js';
import { checkSlackToken } from './slack/token-check.js';
import { RedisBatchStore } from './store/redis-batch-store.js';
import { connectRedis } from './store/redis-connection.js';
import { RedisFreezeStore } from './store/redis-freeze-store.js';
import { RedisProposalStore } from './store/redis-proposal-store.js';
import { RedisRequestStore } from './store/redis-request-store.js';

export interface RunOptions {
  /** Overrides REDIS_PREFIX; tests use a unique one. */
  prefix?: string;
  workerConcurrency?: number;
  /** See DecisionOptions; tests shorten it. */
  pickupWarningMs?: number;
  /** See WorkerOptions.lockMs (RR_WORKER_LOCK_MS); fault tests shorten it. */
  workerLockMs?: number | undefined;
  /** How often a worker checks whether a deploy containing a revert went live (ending its freeze); 30 s. */
  freezeCheckMs?: number | undefined;
  /** The clock requests and approvals are judged by (expiry, selfApprovalAfter); tests move it. Date.now. */
  now?: (() => number) | undefined;
}

export interface Running {
  /**
   * The port of the HTTP server: health and metrics in every mode; Slack events in HTTP mode and the HTTP API
   * wherever the app runs.
   */
  port: number;
  stop(): Promise<void>;
}

/** One driver per target; only the providers rollback.yml names are loaded (the Kubernetes client is ~60 MiB). */
export async function createDrivers(config: Omit<Config, 'slack'>, log: Logger): Promise<Map<string, RollbackDriver>> {
  const map = new Map<string, RollbackDriver>();
  for (const target of config.targets) map.set(target.name, await createDriver(target, config.driverEnvironment, log));
  return map;
}

// The CLI reaches Redis through the wiring, never through store/ itself (.dependency-cruiser.cjs).
export { connectRedis, probeRedis } from './store/redis-connection.js';

/** Starts the Slack app, the worker, or both, on one Redis. */
export async function run(given: Config, log: Logger, options: RunOptions = {}): Promise<Running> {
  // Every Slack and provider call is counted for GET /metrics.
  const metrics = new BotMetrics(log);
  const config: Config = {
    ...given,
    driverEnvironment: { ...given.driverEnvironment, observeCall: (call) => metrics.providerCall(call) },
  };
  const slack: SlackSettings = {
    ...config.slack,
    observeCall: (method, status) => metrics.slackCall(method, status),
  };
  const client = createSlackClient(slack, log);
  const slackToken = checkSlackToken(client, log);
  const notes = slackThreadNotes(client, config.rules.incidentChannel, log);
  const core = await buildCore(config, log, {
    prefix: options.prefix,
    directory: new SlackApproverDirectory(client, log),
    notes,
    now: options.now,
  });
  const closers: Array<() => Promise<unknown>> = [async () => slackToken.stop()];
  const readiness: Array<() => Readiness | Promise<Readiness>> = [
    () => redisReadiness(core.redis),
    () => ({ check: 'slack', ...slackToken.state() }),
  ];
  metrics.watch({
    requestsByState: () => core.store.countByState(Date.now() - REQUESTS_WINDOW_MS),
    queueJobs: () => core.queue.jobCounts(),
    freezes: () =>
      Promise.all(
        config.targets.map(async (t) => ({
          target: t.name,
          frozen: (await core.freezes.current(t.name)) !== undefined,
        })),
      ),
  });

  if (config.mode !== 'app') {
    // The worker's store waits out a Redis outage (commands queue until Redis is back), so a rollback Fastly
    // already carried out is recorded and reported as done, not as a crash. The app's connection fails fast
    // instead: Slack must hear at once that Redis is down.
    const storeRedis = await connectRedis(config.redis, { maxRetriesPerRequest: null }, log);
    const worker = await startWorker(config, {
      store: new RedisRequestStore(storeRedis, { prefix: options.prefix ?? config.redisPrefix }),
      batches: new RedisBatchStore(storeRedis, { prefix: options.prefix ?? config.redisPrefix }),
      freezes: new RedisFreezeStore(storeRedis, { prefix: options.prefix ?? config.redisPrefix }),
      drivers: core.drivers,
      client,
      log,
      bullPrefix: core.bullPrefix,
      concurrency: options.workerConcurrency ?? config.workerConcurrency,
      symmetry: core.symmetry,
      lockMs: options.workerLockMs,
      metrics,
    });
    readiness.push(() => workerReadiness(worker.worker, worker.connection));
    closers.push(worker.close, async () => storeRedis.disconnect());
    // While a target is frozen, its live version is read again every driftCheckEvery (BullMQ job schedulers).
    const drift = await startDriftWatch({
      connection: storeRedis,
      prefix: core.bullPrefix,
      targets: config.targets.map((t) => ({ name: t.name, everyMs: t.driftCheckEveryMs ?? DEFAULT_DRIFT_CHECK_MS })),
      check: (target) => core.service.drift.check(target),
      log,
    });
    closers.unshift(drift.close);
  }

  const health = healthRoutes(
    {
      readiness: () => Promise.all(readiness.map((check) => check())),
      metrics: { token: config.metricsToken, render: () => metrics.render() },
    },
    log,
  );
  let port: number;
  if (config.mode === 'worker') {
    // No Slack receiver here, yet the probes and Prometheus need PORT.
    const server = await serveRoutes(health, config.slack.port);
    port = server.port;
    closers.push(server.close);
  } else {
    // Alertmanager's alerts propose rollbacks in the incident channel (POST /v1/alerts/alertmanager).
    const alerts = new AlertProposals({
      rollbacks: core.service,
      rules: config.rules,
      targets: config.targets,
      requests: core.store,
      freezes: core.freezes,
      store: new RedisProposalStore(core.redis, { prefix: options.prefix ?? config.redisPrefix }),
      board: slackProposalBoard(client, (target) => core.service.approvalFor(target)),
      notes,
      log: log.child({ component: 'alerts' }),
      ...(options.now ? { now: options.now } : {}),
    });
    const slackApp = createSlackApp(slack, core.service, log, {
      routes: [
        ...health,
        ...apiRoutes({ token: config.apiToken }, core.service.gate, log, {
          // Each alert's outcome is counted for the operators (rollback_alerts_total).
          receive: async (received) => {
            const outcomes = await alerts.receive(received);
            for (const outcome of outcomes) metrics.alertHandled(outcome);
            return outcomes;
          },
        }),
      ],
      pickupWarningMs: options.pickupWarningMs,
      seenSignatures: redisSeenSignatures(core.redis, options.prefix ?? config.redisPrefix),
    });
    port = (await slackApp.start()).port;
    closers.unshift(() => slackApp.stop());
  }
  closers.push(() => core.close());
  log.info({ mode: config.mode, port, targets: config.targets.map((t) => t.name) }, 'rapid-rollback started');

  return {
    port,
    async stop() {
      for (const close of closers) await close().catch((err: unknown) => log.warn({ err }, 'error while stopping'));
    },
  };
}

/** Revert branches for the targets that have `git:` settings; none when no target has. */
export function createSymmetry(config: Omit<Config, 'slack'>): SymmetryRestorer | undefined {
  const settings = new Map<string, GitSettings>();
  for (const target of config.targets) {
    const git = (target.settings as { git?: GitSettings }).git;
    if (git) settings.set(target.name, git);
  }
  return settings.size > 0 ? new GitSymmetry(settings, config.gitCacheDir) : undefined;
}

/**
 * The members of a multi-target rollback share their thread's writer in each worker process: their lines are
 * packed into few messages in the order reported (a failure and a progress line still go at once). A group of
 * 100 wrote 101 messages into its one thread, a minute and a half at Slack's pace of about one a second.
 */
const BATCH_MEMBER_LINES = { shared: true } as const;

export interface WorkerDeps {
  store: RequestStore;
  /** Multi-target requests: the last member to end sums the batch up in its thread. */
  batches?: BatchStore | undefined;
  freezes?: FreezeStore | undefined;
  drivers: ReadonlyMap<string, RollbackDriver>;
  /** Writes in the jobs' threads. */
  client: WebClient;
  log: Logger;
  /** BullMQ's key prefix: `<REDIS_PREFIX>-bull`. */
  bullPrefix: string;
  concurrency?: number | undefined;
  flushTimeoutMs?: number | undefined;
  symmetry?: SymmetryRestorer | undefined;
  lockMs?: number | undefined;
  /** The CLI's worker: only this request's job, from its dedicated queue. */
  onlyRequest?: string | undefined;
  /** The bot's metrics: each rollback's end and its first provider call. */
  metrics?: BotMetrics | undefined;
}

/** A worker as the bot runs it: each job reports in its Slack thread, or in the log when it has none. */
export async function startWorker(
  config: Omit<Config, 'slack'>,
  deps: WorkerDeps,
): Promise<{ worker: Worker; connection: Redis; close(): Promise<void> }> {
  const { store, drivers, client, log, metrics } = deps;
  const kindOf = (target: string) => drivers.get(target)?.kind ?? 'unknown';
  const workerRedis = await connectRedis(config.redis, { maxRetriesPerRequest: null }, log);
  const worker = startRollbackWorker({
    connection: workerRedis,
    prefix: deps.bullPrefix,
    concurrency: deps.concurrency,
    flushTimeoutMs: deps.flushTimeoutMs,
    symmetry: deps.symmetry,
    lockMs: deps.lockMs,
    store,
    freezes: deps.freezes,
    driverOfTarget: (target) => drivers.get(target),
    queueName: deps.onlyRequest === undefined ? undefined : dedicatedQueueName(deps.onlyRequest),
    batches: deps.batches,
    batchReporter: slackBatchReporter(client, log),
    reporterFor: (job, jobLog): ProgressReporter => {
      // A member of a multi-target rollback shares the batch's notice: the batch's summary updates it, not each member.
      const notice = (thread: ThreadRef) => (thread.root === 'notice' && !job.batch ? job : undefined);
      const forThread = (thread: ThreadRef | undefined) => {
        const reporter = thread
          ? new SlackThreadReporter(client, thread, notice(thread), jobLog, job.batch ? BATCH_MEMBER_LINES : {})
          : logOnlyReporter(jobLog);
        return job.batch ? labelSteps(reporter, job.plan.target) : reporter;
      };
      // Queued before Slack took the notice (an approval queues at once): the steps wait for its thread, not the rollback.
      const reporter =
        job.thread || !job.threadPending
          ? forThread(job.thread)
          : new DeferredReporter(
              waitForThread(() => store.thread(job.requestId), 10 * 60_000),
              forThread,
            );
      return metrics ? meteredReporter(reporter, metrics, job, kindOf(job.plan.target)) : reporter;
    },
    log,
  });
  return {
    worker,
    connection: workerRedis,
    async close() {
      await worker.close();
      workerRedis.disconnect();
    },
  };
}

/** The pieces behind every front end (Slack, the CLI): one store, one queue, one set of rules. */
export interface Core {
  redis: Redis;
  store: RedisRequestStore;
  batches: RedisBatchStore;
  freezes: RedisFreezeStore;
  queue: RollbackQueue;
  service: RollbackService;
  drivers: Map<string, RollbackDriver>;
  symmetry: SymmetryRestorer | undefined;
  /** BullMQ's key prefix, as run() uses it. */
  bullPrefix: string;
  close(): Promise<void>;
}

/**
 * What run() builds for the Slack app, for another front end: the same Redis keys, queue and rules.
 * `directory` decides who may approve (Slack user groups, or fewer when Slack is down).
 */
export async function buildCore(
  config: Omit<Config, 'slack'>,
  log: Logger,
  options: {
    prefix?: string | undefined;
    directory: ApproverDirectory;
    notes?: ThreadNotes | undefined;
    now?: (() => number) | undefined;
  },
): Promise<Core> {
  const prefix = options.prefix ?? config.redisPrefix;
  const bullPrefix = `${prefix}-bull`;
  const drivers = await createDrivers(config, log);
  const redis = await connectRedis(config.redis, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }, log);
  const store = new RedisRequestStore(redis, { prefix });
  const batches = new RedisBatchStore(redis, { prefix });
  const freezes = new RedisFreezeStore(redis, { prefix });
  const queue = new RollbackQueue({ connection: redis, prefix: bullPrefix });
  const symmetry = createSymmetry(config);
  const service = new RollbackService({
    rules: config.rules,
    targets: config.targets,
    groups: config.groups,
    groupApproval: config.groupApproval,
    batches,
    drivers,
    store,
    directory: options.directory,
    queue,
    log,
    symmetry,
    freezes,
    notes: options.notes,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    redis,
    store,
    batches,
    freezes,
    queue,
    service,
    drivers,
    symmetry,
    bullPrefix,
    async close() {
      await queue.close().catch((err: unknown) => log.warn({ err }, 'error while closing the queue'));
      redis.disconnect();
    },
  };
}

/**
 * Counts each rollback's end (rollbacks_total, approve → verified) as it is reported, and its first timed step,
 * which is the deciding read of the provider: approve → first provider call is when that step started.
 */
function meteredReporter(
  reporter: ProgressReporter,
  metrics: BotMetrics,
  job: { approvedAt: number },
  kind: string,
): ProgressReporter {
  let firstCallSeen = false;
  return {
    report(step) {
      if (!firstCallSeen && step.durationMs !== undefined) {
        firstCallSeen = true;
        metrics.firstProviderCall(kind, Date.now() - step.durationMs - job.approvedAt);
      }
      reporter.report(step);
    },
    finish(result) {
      metrics.rollbackEnded({
        target: result.job.plan.target,
        kind,
        outcome: result.outcome.status,
        sinceApprovalMs: result.sinceApprovalMs,
      });
      reporter.finish(result);
    },
    flush: () => reporter.flush(),
    ...(reporter.announced ? { announced: () => reporter.announced?.() ?? Promise.resolve() } : {}),
  };
}

function logOnlyReporter(log: Logger): ProgressReporter {
  return {
    report: (step) => log.info({ step }, 'rollback step'),
    finish: (result) => log.info({ status: result.outcome.status, ms: result.sinceApprovalMs }, 'rollback finished'),
    flush: async () => undefined,
  };
}

/** The request store on a Redis connection the caller holds (the CLI's plan, which may run without a worker). */
export function requestStoreOn(redis: Redis, prefix: string): RequestStore {
  return new RedisRequestStore(redis, { prefix });
}
