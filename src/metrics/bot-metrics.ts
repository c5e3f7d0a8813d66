import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ProviderCall } from '../core/ports/driver.js';
import type { Logger } from '../log.js';

/**
 * What is read from Redis when Prometheus scrapes (never cached, so a scrape shows the state of that moment).
 * A probe that fails (Redis away) leaves its series out of that scrape rather than failing the whole scrape.
 */
export interface MetricsProbes {
  /** Requests created in the last REQUESTS_WINDOW_MS, counted by state. */
  requestsByState?: (() => Promise<Record<string, number>>) | undefined;
  /** The rollback queue's jobs: waiting, active, delayed, failed. */
  queueJobs?: (() => Promise<Record<string, number>>) | undefined;
  /** Every target, and whether it is frozen now. */
  freezes?: (() => Promise<Array<{ target: string; frozen: boolean }>>) | undefined;
}

/** How far back `rollback_requests` counts requests (a pending request expires long before). */
export const REQUESTS_WINDOW_MS = 24 * 3_600_000;

/** A rollback that ended, as the worker saw it. */
export interface EndedRollback {
  target: string;
  kind: string;
  /** The outcome's status: succeeded (verified), already-done (found done and verified), stale, failed. */
  outcome: string;
  /** From the approval to the end. */
  sinceApprovalMs: number;
}

/** An HTTP status as Prometheus users group them; 429 on its own, since rate limits are what operators look for. */
function statusClass(status: number): string {
  return status === 429 ? '429' : `${Math.floor(status / 100)}xx`;
}

function providerCallClass(call: ProviderCall): string {
  if ('noAnswer' in call) return 'no-answer';
  if ('exitCode' in call) return call.exitCode === 0 ? 'exit-0' : 'exit-nonzero';
  return statusClass(call.status);
}

/** The outcomes of a rollback that ended verified: this run's change, or one found already done. */
const VERIFIED = ['succeeded', 'already-done'];

/**
 * The bot's Prometheus metrics (prom-client), on a registry of its own: the process's default metrics and
 * what operators ask of a rollback bot. Every name is documented in README.md ("Health and metrics").
 */
export class BotMetrics {
  readonly registry = new Registry();
  private readonly rollbacks: Counter<'target' | 'kind' | 'outcome'>;
  private readonly approveToVerified: Histogram<'kind'>;
  private readonly approveToFirstCall: Histogram<'kind'>;
  private readonly providerCalls: Counter<'provider' | 'status_class'>;
  private readonly slackCalls: Counter<'method' | 'status_class'>;
  private readonly alerts: Counter<'result' | 'target'>;

  constructor(private readonly log: Logger) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.rollbacks = new Counter({
      name: 'rollbacks_total',
      help: 'Rollbacks that ended, by target, kind and outcome: succeeded, already-done, stale, failed.',
      labelNames: ['target', 'kind', 'outcome'],
      registers,
    });
    this.approveToVerified = new Histogram({
      name: 'rollback_approve_to_verified_seconds',
      help: 'From the approval to the end of a verified rollback, by kind (the runbooks: 60 s Fastly, 5 min Helm).',
      labelNames: ['kind'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.approveToFirstCall = new Histogram({
      name: 'rollback_approve_to_first_provider_call_seconds',
      help: "From the approval to the worker's first call to the provider (the deciding read), by kind.",
      labelNames: ['kind'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.providerCalls = new Counter({
      name: 'provider_api_calls_total',
      help: 'Calls to providers (fastly, kubernetes, helm) by status class: 2xx, 4xx, 429, 5xx, no-answer; helm: exit-0, exit-nonzero.',
      labelNames: ['provider', 'status_class'],
      registers,
    });
    this.slackCalls = new Counter({
      name: 'slack_api_calls_total',
      help: 'Slack Web API calls by method and HTTP status class (2xx, 429, 4xx, 5xx, no-answer); every retry counts.',
      labelNames: ['method', 'status_class'],
      registers,
    });
    this.alerts = new Counter({
      name: 'rollback_alerts_total',
      help: "Alerts Alertmanager's webhook brought, by what the bot did (proposed, added, resolved, repeat, outside-window, locked, frozen, …) and target ('' when none).",
      labelNames: ['result', 'target'],
      registers,
    });
  }

  /** One alert the webhook handled (POST /v1/alerts/alertmanager), by what was done with it. */
  alertHandled(outcome: { result: string; target?: string | undefined }): void {
    this.alerts.inc({ result: outcome.result, target: outcome.target ?? '' });
  }

  /** Adds the series read from Redis at each scrape (once the stores exist). */
  watch(probes: MetricsProbes): void {
    const registers = [this.registry];
    const log = this.log;
    const probed = <L extends string>(
      name: string,
      help: string,
      labelName: L,
      read: (() => Promise<Array<[string, number]>>) | undefined,
    ) => {
      if (!read) return;
      new Gauge({
        name,
        help,
        labelNames: [labelName],
        registers,
        async collect() {
          this.reset();
          try {
            for (const [label, value] of await read()) this.set({ [labelName]: label } as Record<L, string>, value);
          } catch (error) {
            log.warn({ err: error, metric: name }, 'a metric could not be read for this scrape');
          }
        },
      });
    };
    const { requestsByState, queueJobs, freezes } = probes;
    probed(
      'rollback_requests',
      'Rollback requests created in the last 24 hours, by state (pending, approved, running, succeeded, …).',
      'state',
      requestsByState && (async () => Object.entries(await requestsByState())),
    );
    probed(
      'rollback_queue_jobs',
      'Jobs in the rollback queue by state: waiting, active, delayed, failed.',
      'state',
      queueJobs && (async () => Object.entries(await queueJobs())),
    );
    probed(
      'target_frozen',
      '1 while a target is frozen (the deploy gate refuses deploys without its revert), else 0.',
      'target',
      freezes && (async () => (await freezes()).map(({ target, frozen }) => [target, frozen ? 1 : 0])),
    );
  }

  providerCall(call: ProviderCall): void {
    this.providerCalls.inc({ provider: call.provider, status_class: providerCallClass(call) });
  }

  /** A rollback's first call to its provider (the deciding read) started `ms` after the approval. */
  firstProviderCall(kind: string, ms: number): void {
    this.approveToFirstCall.observe({ kind }, Math.max(0, ms) / 1000);
  }

  slackCall(method: string, status: number | undefined): void {
    this.slackCalls.inc({ method, status_class: status === undefined ? 'no-answer' : statusClass(status) });
  }

  rollbackEnded(ended: EndedRollback): void {
    this.rollbacks.inc({ target: ended.target, kind: ended.kind, outcome: ended.outcome });
    if (VERIFIED.includes(ended.outcome))
      this.approveToVerified.observe({ kind: ended.kind }, ended.sinceApprovalMs / 1000);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
