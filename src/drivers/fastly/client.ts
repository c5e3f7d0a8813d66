/**
 * The three Fastly API calls a rollback needs, on top of the `fastly` npm package, with the
 * timeouts, retries and error messages the package does not have.
 *
 * Quirks of the package (v13) this works around, read from node_modules/fastly/dist:
 * - Every *Api method passes its own hard-coded base path ('https://api.fastly.com') to
 *   ApiClient#buildUrl, so `basePath` is ignored; our buildUrl drops that argument.
 * - Every *Api constructor re-authenticates its ApiClient from process.env.FASTLY_API_TOKEN, and
 *   ApiClient.instance is a process-wide singleton; each FastlyClient owns its ApiClient and
 *   authenticates it with the token from options after building the *Api objects.
 * - Calls cannot be aborted and reject with plain objects, not Errors; a superagent plugin hands us
 *   each request so a timeout or an AbortSignal can abort it.
 * - Response bodies are converted into model objects that drop what they do not know; we parse the
 *   raw `response.body` with zod instead (api-schema.ts), and turn the conversion off: it cost 1–3 ms of CPU
 *   per answer (dates parsed in every version and event) for objects nobody read.
 * - superagent, under the package, opens a new connection per call (`agent: false`): a TCP and a TLS
 *   handshake before each of a rollback's calls. Each client keeps its connections alive instead.
 * - The package index loads all 800 models and 127 APIs (~40 MiB); we require the five modules we use.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createRequire } from 'node:module';
import type {
  ApiClient,
  DiffApi,
  EventsApi,
  FastlyCallFailure,
  FastlyHttpInfo,
  FastlyRequest,
  ServiceApi,
  VersionApi,
} from 'fastly';
import { sleep as abortableSleep, abortReason } from '../../core/abortable.js';
import { RollbackError } from '../../core/errors.js';
import type { ProviderCall } from '../../core/ports/driver.js';
import { type Logger, silentLogger } from '../../log.js';
import { delayBefore, type RetryDecision, withRetries } from '../shared/backoff.js';
import { parseRetryAfter } from '../shared/retry-after.js';
import {
  activatedVersion,
  diffResponseSchema,
  errorText,
  eventsResponseSchema,
  serviceDetailSchema,
  type VersionBody,
  versionSchema,
} from './api-schema.js';

export interface FastlyClientOptions {
  token: string;
  /** Default 'https://api.fastly.com'; e.g. a simulator http://127.0.0.1:PORT */
  baseUrl?: string;
  /** Per HTTP call, default 10_000. */
  timeoutMs?: number;
  /** For 429/5xx/network errors, default 3. */
  maxRetries?: number;
  /** Cap for a single wait, default 5_000. */
  maxBackoffMs?: number;
  /** How long an unused connection is kept for the next call, default IDLE_CONNECTION_MS. */
  idleConnectionMs?: number;
  log?: Logger;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told of every HTTP exchange (the bot's metrics). */
  observeCall?: ((call: ProviderCall) => void) | undefined;
}

export interface FastlyVersion {
  number: number;
  active: boolean;
  locked: boolean;
  comment: string;
  updatedAt: string | null;
}

export interface FastlyService {
  id: string;
  name: string;
  activeVersion: number | null;
  versions: FastlyVersion[];
}

export interface FastlyActivation {
  version: number;
  at: string;
  userId: string | null;
  description: string;
}

// require(), not import: what a default import of Babel-compiled CommonJS gives differs between Node,
// vitest and bundlers (module.exports or its `default`); require() gives module.exports everywhere.
const requireFastly = createRequire(import.meta.url);
const fastly = {
  ApiClient: (requireFastly('fastly/dist/ApiClient.js') as typeof import('fastly/dist/ApiClient.js')).default,
  ServiceApi: (requireFastly('fastly/dist/api/ServiceApi.js') as typeof import('fastly/dist/api/ServiceApi.js'))
    .default,
  VersionApi: (requireFastly('fastly/dist/api/VersionApi.js') as typeof import('fastly/dist/api/VersionApi.js'))
    .default,
  EventsApi: (requireFastly('fastly/dist/api/EventsApi.js') as typeof import('fastly/dist/api/EventsApi.js')).default,
  DiffApi: (requireFastly('fastly/dist/api/DiffApi.js') as typeof import('fastly/dist/api/DiffApi.js')).default,
};

const DEFAULT_BASE_URL = 'https://api.fastly.com';
/**
 * How long an idle connection is kept for the next call: long enough for a rollback's back-to-back calls
 * (stale-plan read, activation, read-back), shorter than servers commonly keep an idle connection (5 s
 * for Node's), so that a call is not sent on a connection the server is closing at that moment.
 */
const IDLE_CONNECTION_MS = 4_000;
/** One page of the audit log is plenty to find the previous activations. */
const EVENTS_PAGE_SIZE = 100;
/** Connection errors that prove the request never reached Fastly, so even an activation may be resent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

interface Call<T> {
  method: 'GET' | 'PUT';
  /** For logs and messages; never carries the token. */
  path: string;
  /** What we were doing, for messages: "read service X". */
  what: string;
  serviceId: string;
  /** Safe to send again after an uncertain failure (a 5xx, a timeout, a dropped connection). */
  idempotent: boolean;
  /** Set for activations, whose uncertain failures need the caller to re-read the service. */
  activation?: number;
  send: () => Promise<FastlyHttpInfo>;
  parse: (body: unknown) => T;
}

type Outcome =
  | { kind: 'ok'; status: number; body: unknown }
  | { kind: 'http'; status: number; body: unknown; headers: Record<string, string | undefined> }
  | { kind: 'timeout' }
  | { kind: 'network'; code: string | undefined; message: string };

type Failure = Exclude<Outcome, { kind: 'ok' }>;

/** What Fastly's last answer said of this token's hourly limit on non-read calls (each activation is one). */
export interface FastlyWriteBudget {
  /** Fastly-RateLimit-Remaining: writes left before Fastly answers 429. */
  remaining: number;
  /** Fastly-RateLimit-Reset: when the hour's count starts again (epoch ms). */
  resetsAt: number;
}

export class FastlyClient {
  readonly #token: string;
  private readonly api: ApiClient;
  private readonly services: ServiceApi;
  private readonly versions: VersionApi;
  private readonly events: EventsApi;
  private readonly diffs: DiffApi;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxBackoffMs: number;
  private readonly log: Logger;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly observeCall: ((call: ProviderCall) => void) | undefined;
  private budget: FastlyWriteBudget | undefined;

  constructor(options: FastlyClientOptions) {
    if (!options.token) {
      throw new RollbackError('CONFIG_INVALID', 'The Fastly API token is empty.', {
        hint: 'Set FASTLY_API_TOKEN to an API token with global or engineer scope.',
      });
    }
    this.#token = options.token;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.log = options.log ?? silentLogger();
    this.sleep = options.sleep ?? abortableSleep;
    this.observeCall = options.observeCall;

    const api = new fastly.ApiClient();
    api.basePath = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    // Node unrefs a keep-alive agent's idle sockets, so they never hold a process (or a test) open.
    const Agent = api.basePath.startsWith('http:') ? HttpAgent : HttpsAgent;
    // `timeout` only closes sockets that sit unused in the pool; one waiting for an answer is left alone.
    api.requestAgent = new Agent({ keepAlive: true, timeout: options.idleConnectionMs ?? IDLE_CONNECTION_MS });
    // We read the raw `response.body`; the package's model objects would be thrown away unread.
    api.deserialize = () => null;
    const buildUrl = api.buildUrl.bind(api);
    api.buildUrl = (path, pathParams, allowReserved) => buildUrl(path, pathParams, allowReserved, null);
    // Our own timer fires first and aborts the request; superagent's deadline is only a backstop.
    api.timeout = this.timeoutMs + 1_000;
    api.defaultHeaders = {
      ...api.defaultHeaders,
      'User-Agent': `rapid-rollback ${api.defaultHeaders['User-Agent'] ?? ''}`.trim(),
    };
    this.api = api;
    this.services = new fastly.ServiceApi(api);
    this.versions = new fastly.VersionApi(api);
    this.events = new fastly.EventsApi(api);
    this.diffs = new fastly.DiffApi(api);
    // After the *Api constructors, which may have put process.env.FASTLY_API_TOKEN in its place.
    api.authenticate(this.#token);
  }

  /** The service with all its versions; GET /service/{id}/details. */
  getService(serviceId: string, signal?: AbortSignal): Promise<FastlyService> {
    return this.call(
      {
        method: 'GET',
        path: `/service/${serviceId}/details`,
        what: `read service ${serviceId}`,
        serviceId,
        idempotent: true,
        send: () => this.services.getServiceDetailWithHttpInfo({ service_id: serviceId }),
        parse: (body) => {
          const detail = serviceDetailSchema.parse(body);
          const activeVersion = detail.active_version?.number ?? detail.versions.find((v) => v.active)?.number ?? null;
          return {
            id: detail.id,
            name: detail.name,
            activeVersion,
            versions: detail.versions
              .map((v) => toVersion({ ...v, active: v.number === activeVersion }))
              .sort((a, b) => a.number - b.number),
          };
        },
      },
      signal,
    );
  }

  /** The text diff of the generated configuration from version `from` to version `to` (the whole of it when equal). */
  diffVersions(serviceId: string, from: number, to: number, signal?: AbortSignal): Promise<string> {
    return this.call(
      {
        method: 'GET',
        path: `/service/${serviceId}/diff/from/${from}/to/${to}`,
        what: `read the diff of versions ${from} and ${to} of service ${serviceId}`,
        serviceId,
        idempotent: true,
        send: () =>
          this.diffs.diffServiceVersionsWithHttpInfo({
            service_id: serviceId,
            from_version_id: from,
            to_version_id: to,
            format: 'text',
          }),
        parse: (body) => diffResponseSchema.parse(body).diff,
      },
      signal,
    );
  }

  /** Activations of the service from the audit log, newest first. */
  async listActivations(serviceId: string, signal?: AbortSignal): Promise<FastlyActivation[]> {
    const page = await this.call(
      {
        method: 'GET',
        path: '/events',
        what: `read the activation history of service ${serviceId}`,
        serviceId,
        idempotent: true,
        send: () =>
          this.events.listEventsWithHttpInfo({
            filter_service_id: serviceId,
            filter_event_type: 'version.activate',
            sort: '-created_at',
            page_size: EVENTS_PAGE_SIZE,
            page_number: 1,
          }),
        parse: (body) => eventsResponseSchema.parse(body),
      },
      signal,
    );
    const activations: FastlyActivation[] = [];
    for (const event of page.data) {
      const { attributes } = event;
      // The filters are applied by Fastly; checking again costs nothing and guards the rollback.
      if (attributes.event_type !== 'version.activate') continue;
      if (attributes.service_id && attributes.service_id !== serviceId) continue;
      const version = activatedVersion(event);
      if (version === undefined) {
        this.log.warn(
          { eventId: event.id, description: attributes.description },
          'fastly activation event without a version; skipped',
        );
        continue;
      }
      activations.push({
        version,
        at: attributes.created_at,
        userId: attributes.user_id ?? null,
        description: attributes.description,
      });
    }
    // Stable sort: events within the same second keep Fastly's (newest-first) order.
    return activations.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  }

  /**
   * Activates a version; PUT /service/{id}/version/{n}/activate. Never resent after an uncertain
   * failure: such errors are not retryable and say that the service must be re-read.
   */
  activateVersion(serviceId: string, version: number, signal?: AbortSignal): Promise<FastlyVersion> {
    if (!Number.isInteger(version) || version < 1) {
      return Promise.reject(new RollbackError('VERSION_UNKNOWN', `"${version}" is not a Fastly version number.`));
    }
    return this.call(
      {
        method: 'PUT',
        path: `/service/${serviceId}/version/${version}/activate`,
        what: `activate version ${version} of service ${serviceId}`,
        serviceId,
        idempotent: false,
        activation: version,
        send: () => this.versions.activateServiceVersionWithHttpInfo({ service_id: serviceId, version_id: version }),
        parse: (body) => toVersion(versionSchema.parse(body)),
      },
      signal,
    );
  }

  /** The write budget from Fastly's latest answer; undefined before any answer carried the headers. */
  writeBudget(): FastlyWriteBudget | undefined {
    return this.budget;
  }

  private noteBudget(headers: Record<string, string | undefined>): void {
    const remaining = Number(headers['fastly-ratelimit-remaining']);
    const reset = Number(headers['fastly-ratelimit-reset']);
    if (headers['fastly-ratelimit-remaining'] === undefined || !Number.isFinite(remaining)) return;
    this.budget = { remaining, resetsAt: Number.isFinite(reset) ? reset * 1000 : Number.NaN };
  }

  private async call<T>(call: Call<T>, signal: AbortSignal | undefined): Promise<T> {
    const body = await withRetries<unknown, Failure>(
      async (attempt) => {
        const started = performance.now();
        const outcome = await this.attempt(call, signal);
        const durationMs = Math.round(performance.now() - started);
        this.observeCall?.(
          'status' in outcome ? { provider: 'fastly', status: outcome.status } : { provider: 'fastly', noAnswer: true },
        );
        this.log.debug(
          { method: call.method, path: call.path, status: statusOf(outcome), durationMs, attempt },
          'fastly api call',
        );
        return outcome.kind === 'ok' ? { ok: true, value: outcome.body } : { ok: false, failure: outcome };
      },
      (outcome, attempt) => {
        const decision = this.decide(call, outcome, attempt);
        if ('waitMs' in decision) {
          this.log.debug(
            { method: call.method, path: call.path, status: statusOf(outcome), waitMs: decision.waitMs },
            'fastly api call will be retried',
          );
        }
        return decision;
      },
      { signal, sleep: this.sleep },
    );
    return this.parse(call, body);
  }

  /** One HTTP exchange, bounded by timeoutMs and the signal. Resolves with what happened. */
  private attempt(call: Call<unknown>, signal: AbortSignal | undefined): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      let request: FastlyRequest | undefined;
      let pending: Promise<FastlyHttpInfo>;
      // The package applies plugins synchronously inside the call, so this captures this call's request only.
      this.api.plugins = [(r) => (request = r)];
      try {
        pending = call.send();
      } catch (error) {
        reject(error);
        return;
      } finally {
        this.api.plugins = null;
      }

      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const timer = setTimeout(() => {
        finish();
        request?.abort();
        resolve({ kind: 'timeout' });
      }, this.timeoutMs);
      const onAbort = () => {
        finish();
        request?.abort();
        reject(abortReason(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });

      pending.then(
        (info) => {
          finish();
          this.noteBudget(info.response.headers ?? {});
          resolve({ kind: 'ok', status: info.response.status, body: info.response.body });
        },
        (failure: unknown) => {
          finish();
          const outcome = classify(failure);
          if (outcome.kind === 'http') this.noteBudget(outcome.headers);
          resolve(outcome);
        },
      );
    });
  }

  private parse<T>(call: Call<T>, body: unknown): T {
    try {
      return call.parse(body);
    } catch (error) {
      if (call.activation !== undefined)
        throw this.uncertainActivation(
          call,
          'PROVIDER_UNAVAILABLE',
          'with a body rapid-rollback could not read',
          error,
        );
      throw new RollbackError(
        'PROVIDER_UNAVAILABLE',
        `Fastly answered with data rapid-rollback could not read when trying to ${call.what}.`,
        {
          hint: 'The Fastly API may have changed; retry once, and if it persists report it to the rapid-rollback maintainers.',
          cause: error,
          details: { method: call.method, path: call.path },
        },
      );
    }
  }

  /** After failed try number `attempts`: wait and try again, or the error that says why not. */
  private decide(call: Call<unknown>, outcome: Failure, attempts: number): RetryDecision {
    const retriesLeft = attempts <= this.maxRetries;
    const details = { method: call.method, path: call.path, attempts };

    if (outcome.kind === 'timeout') {
      if (call.activation !== undefined)
        return { error: this.uncertainActivation(call, 'PROVIDER_TIMEOUT', `no answer within ${this.timeoutMs} ms`) };
      if (retriesLeft) return { waitMs: this.backoff(attempts) };
      return {
        error: new RollbackError(
          'PROVIDER_TIMEOUT',
          `Fastly did not answer within ${this.timeoutMs} ms, ${plural(attempts, 'attempt')}, when trying to ${call.what}.`,
          {
            hint: 'Check https://www.fastlystatus.com and the network from the worker to api.fastly.com, then try again.',
            retryable: true,
            details,
          },
        ),
      };
    }

    if (outcome.kind === 'network') {
      const notSent = outcome.code !== undefined && NOT_SENT_CODES.has(outcome.code);
      if (call.activation !== undefined && !notSent) {
        return {
          error: this.uncertainActivation(
            call,
            'PROVIDER_UNAVAILABLE',
            `the connection failed (${outcome.code ?? outcome.message})`,
          ),
        };
      }
      if (retriesLeft) return { waitMs: this.backoff(attempts) };
      return {
        error: new RollbackError(
          'PROVIDER_UNAVAILABLE',
          `Could not reach the Fastly API (${outcome.code ?? outcome.message}), ${plural(attempts, 'attempt')}, when trying to ${call.what}.`,
          {
            hint: 'Check the network and DNS from the worker to api.fastly.com, then try again.',
            retryable: true,
            details: { ...details, code: outcome.code },
          },
        ),
      };
    }

    const { status } = outcome;
    const said = errorText(outcome.body);
    const fastlySaid = said ? `: ${said}` : '';
    const httpDetails = { ...details, status };

    if (status === 429) {
      const now = Date.now();
      const waitMs = rateLimitWaitMs(outcome.headers, now);
      if (retriesLeft && (waitMs ?? 0) <= this.maxBackoffMs) return { waitMs: this.backoff(attempts, waitMs) };
      const resetAt = new Date(now + (waitMs ?? 0)).toISOString();
      return {
        error: new RollbackError(
          'PROVIDER_RATE_LIMITED',
          `Fastly's API rate limit is used up (HTTP 429) when trying to ${call.what}; it resets at ${resetAt}.`,
          {
            hint: `Try again after ${resetAt}. Other automation using the same token may be spending the hourly limit of write requests.`,
            retryable: true,
            details: { ...httpDetails, resetAt },
          },
        ),
      };
    }

    if (status >= 500) {
      if (call.activation !== undefined)
        return { error: this.uncertainActivation(call, 'PROVIDER_UNAVAILABLE', `HTTP ${status}${fastlySaid}`) };
      if (retriesLeft) return { waitMs: this.backoff(attempts) };
      return {
        error: new RollbackError(
          'PROVIDER_UNAVAILABLE',
          `Fastly's API failed (HTTP ${status}${fastlySaid}), ${plural(attempts, 'attempt')}, when trying to ${call.what}.`,
          {
            hint: 'Check https://www.fastlystatus.com, then try again in a few minutes.',
            retryable: true,
            details: httpDetails,
          },
        ),
      };
    }

    if (status === 401 || status === 403) {
      const hint =
        call.path === '/events'
          ? `Check that FASTLY_API_TOKEN may read the account's audit log (in Fastly that takes a superuser's token); without it the activation history of ${call.serviceId} is unavailable.`
          : `Check that FASTLY_API_TOKEN has global or engineer scope for service ${call.serviceId} and has not expired or been revoked.`;
      return {
        error: new RollbackError(
          'PROVIDER_AUTH',
          `Fastly refused the token (HTTP ${status}${fastlySaid}) when trying to ${call.what}.`,
          {
            hint,
            details: httpDetails,
          },
        ),
      };
    }

    if (status === 404) {
      const hint =
        call.activation !== undefined
          ? `Check serviceId in rollback.yml and that version ${call.activation} exists (fastly service version list --service-id ${call.serviceId}).`
          : `Check serviceId in rollback.yml, and that the token is not limited to other services.`;
      return {
        error: new RollbackError(
          'PROVIDER_NOT_FOUND',
          `Fastly found nothing (HTTP 404${fastlySaid}) when trying to ${call.what}.`,
          {
            hint,
            details: httpDetails,
          },
        ),
      };
    }

    return {
      error: new RollbackError(
        'PROVIDER_REJECTED',
        `Fastly rejected the request to ${call.what} (HTTP ${status}${fastlySaid}).`,
        {
          hint: 'Fastly says why above; fix that in Fastly or in rollback.yml, then try again.',
          details: httpDetails,
        },
      ),
    };
  }

  /** A failure after which nobody knows whether the activation happened. Never retryable. */
  private uncertainActivation(
    call: Call<unknown>,
    code: 'PROVIDER_UNAVAILABLE' | 'PROVIDER_TIMEOUT',
    what: string,
    cause?: unknown,
  ): RollbackError {
    return new RollbackError(
      code,
      `Activating version ${call.activation} of service ${call.serviceId} failed (${what}): the activation may or may not have happened.`,
      {
        hint: 'Do not activate again blindly: re-read the service to see which version is active now, then decide.',
        retryable: false,
        cause,
        details: { method: call.method, path: call.path, uncertain: true },
      },
    );
  }

  /** What Fastly asked for, else exponential backoff with equal jitter, capped at maxBackoffMs. */
  private backoff(attempts: number, askedMs?: number): number {
    return delayBefore(attempts, { askedMs, capMs: this.maxBackoffMs });
  }
}

function toVersion(v: VersionBody): FastlyVersion {
  return { number: v.number, active: v.active, locked: v.locked, comment: v.comment, updatedAt: v.updated_at };
}

function classify(failure: unknown): Failure {
  const f = (typeof failure === 'object' && failure !== null ? failure : {}) as FastlyCallFailure;
  if (f.response && typeof f.response.status === 'number') {
    return { kind: 'http', status: f.response.status, body: f.response.body, headers: f.response.headers ?? {} };
  }
  const error =
    f.error ?? (failure instanceof Error ? (failure as Error & { code?: string; timeout?: number }) : undefined);
  if (error?.timeout !== undefined) return { kind: 'timeout' };
  return { kind: 'network', code: error?.code, message: error?.message ?? String(failure) };
}

/** How long Fastly asks us to wait: Fastly-RateLimit-Reset (epoch seconds) and Retry-After, the later of the two. */
function rateLimitWaitMs(headers: Record<string, string | undefined>, now: number): number | undefined {
  const waits: number[] = [];
  const reset = Number(headers['fastly-ratelimit-reset']);
  if (Number.isFinite(reset) && reset > 0) waits.push(reset * 1000 - now);
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined) waits.push(retryAfter);
  return waits.length === 0 ? undefined : Math.max(0, ...waits);
}

function statusOf(outcome: Outcome): number | string {
  return 'status' in outcome ? outcome.status : outcome.kind;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
