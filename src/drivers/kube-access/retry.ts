import { ApiException } from '@kubernetes/client-node';
import { RollbackError } from '../../core/errors.js';
import { delayBefore } from '../shared/backoff.js';
import { parseRetryAfter } from '../shared/retry-after.js';

/**
 * How one exchange with the Kubernetes API server failed, and what that says about the request:
 * - `http` 429 (API Priority and Fairness, or a proxy in front) means the server did not act on it;
 * - `http` 5xx, `timeout` and `network` leave it unknown whether a write took effect;
 * - any other `http` status is a definite refusal.
 */
export type KubeFailure =
  | { kind: 'http'; status: number; message: string; retryAfterMs: number | undefined }
  | { kind: 'timeout'; afterMs: number }
  | { kind: 'network'; message: string };

/** Tries per read (the first and three retries), as the Fastly client. */
export const READ_ATTEMPTS = 4;
/** Sends of the rollback patch at most, each after a read-back proved the one before did nothing. */
export const PATCH_SENDS = 3;
/** The longest single wait honoured from Retry-After; a server asking for more gets a clear failure instead. */
export const MAX_WAIT_MS = 10_000;

export const UNAVAILABLE_HINT =
  'Check the API server (`kubectl get --raw /readyz`) and the network from the worker to it, then try again.';
export const RATE_LIMIT_HINT =
  'The API server is throttling these credentials (API Priority and Fairness): wait a minute and try again, and look for other automation using the same identity.';
const BACKOFF_CAP_MS = 4_000;

export function classify(error: unknown, timedOut: boolean, timeoutMs: number): KubeFailure {
  if (timedOut) return { kind: 'timeout', afterMs: timeoutMs };
  if (error instanceof ApiException) {
    const status = error.code as number;
    return {
      kind: 'http',
      status,
      message: apiMessage(error),
      retryAfterMs: retryAfterMs(error.headers as Record<string, string> | undefined),
    };
  }
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'network', message: cause && !message.includes(cause) ? `${message} (${cause})` : message };
}

/** A definite refusal (not worth trying again), in words for the thread. */
export function refusal(what: string, failure: Extract<KubeFailure, { kind: 'http' }>, error: unknown): RollbackError {
  const said = failure.message || `HTTP ${failure.status}`;
  if (failure.status === 404)
    return new RollbackError('PROVIDER_NOT_FOUND', `Kubernetes says ${what}: not found (${said}).`, {
      hint: 'Check the namespace and names in rollback.yml.',
      cause: error,
    });
  if (failure.status === 401 || failure.status === 403) {
    return new RollbackError('PROVIDER_AUTH', `Kubernetes refused ${what} (HTTP ${failure.status}: ${said}).`, {
      hint: 'Check the kubeconfig or service account: it needs get/list/patch on deployments and replicasets, list on pods and secrets, and get/patch on applications.argoproj.io, kustomizations.kustomize.toolkit.fluxcd.io and helmreleases.helm.toolkit.fluxcd.io where Argo CD or Flux manages a target.',
      cause: error,
    });
  }
  if (failure.status === 409 || failure.status === 422)
    return new RollbackError('PLAN_STALE', `Kubernetes rejected ${what}: ${said}.`, { cause: error });
  return new RollbackError('PROVIDER_REJECTED', `Kubernetes rejected ${what} (HTTP ${failure.status}: ${said}).`, {
    cause: error,
  });
}

/** True when the server said it did not act: only a 429 proves that. */
export function notApplied(failure: KubeFailure): boolean {
  return failure.kind === 'http' && failure.status === 429;
}

/** Worth trying again: rate limits, server errors, no answer, a dropped connection. */
export function transient(failure: KubeFailure): boolean {
  return failure.kind !== 'http' || failure.status === 429 || failure.status >= 500;
}

/** How long to wait before the next try: what the server asked for, else exponential backoff with jitter. */
export function waitBefore(failure: KubeFailure, attempt: number): number {
  return delayBefore(attempt, {
    askedMs: failure.kind === 'http' ? failure.retryAfterMs : undefined,
    capMs: BACKOFF_CAP_MS,
  });
}

/** "answered 503 (Service Unavailable: etcd is down)", "did not answer within 10 s", "could not be reached (ECONNREFUSED)". */
export function failureText(failure: KubeFailure): string {
  switch (failure.kind) {
    case 'http':
      return `answered ${failure.status}${failure.message ? ` (${failure.message})` : ''}`;
    case 'timeout':
      return `did not answer within ${seconds(failure.afterMs)}`;
    case 'network':
      return `could not be reached (${failure.message})`;
  }
}

/** "answered 503 4 times over 1.8 s", or each different answer when they were not all the same. */
export function failuresText(failures: KubeFailure[], elapsedMs: number): string {
  const texts = failures.map(shortText);
  const last = failures[failures.length - 1];
  const over = `over ${seconds(elapsedMs)}`;
  if (texts.every((t) => t === texts[0]) && last) {
    if (failures.length === 1) return failureText(last);
    return `${texts[0]} ${failures.length} times ${over}${last.kind === 'http' && last.message ? ` (${last.message})` : ''}`;
  }
  return `failed ${failures.length} times ${over} (${texts.join(', ')}${last?.kind === 'http' && last.message ? `: ${last.message}` : ''})`;
}

function shortText(failure: KubeFailure): string {
  if (failure.kind === 'http') return `answered ${failure.status}`;
  return failureText(failure);
}

export function seconds(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  return `${Math.round(ms / 1000)} s`;
}

/** Retry-After in seconds or as an HTTP date; header names in any case. */
export function retryAfterMs(headers: Record<string, string> | undefined, now = Date.now()): number | undefined {
  return parseRetryAfter(Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1], now);
}

function apiMessage(error: ApiException<unknown>): string {
  const body =
    typeof error.body === 'string'
      ? safeJson(error.body)
      : (error.body as { message?: unknown; reason?: unknown } | undefined);
  const reason = typeof body?.reason === 'string' ? spaced(body.reason) : '';
  const message = typeof body?.message === 'string' ? body.message : '';
  if (reason && message) return `${reason}: ${message}`;
  return reason || message;
}

/** "ServiceUnavailable" → "Service Unavailable", as the API server's reasons read in HTTP. */
function spaced(reason: string): string {
  return reason.replace(/([a-z])([A-Z])/g, '$1 $2');
}

function safeJson(text: string): { message?: unknown; reason?: unknown } | undefined {
  try {
    return JSON.parse(text) as { message?: unknown; reason?: unknown };
  } catch {
    return undefined;
  }
}
