import { abortReason, sleep } from '../core/abortable.js';
import { formatDuration } from '../core/duration.js';
import type { StepReport, VerifyCheck } from '../core/types.js';

export interface HttpProbeSpec {
  url: string;
  /** The status that counts as healthy; any 2xx when not given. */
  expectStatus?: number;
  /** Per attempt; default 5000. */
  timeoutMs?: number;
  /** Default 3, spaced intervalMs apart. */
  attempts?: number;
  /** Default 1000. */
  intervalMs?: number;
}

export interface HttpProbeContext {
  signal: AbortSignal;
  report?: (step: StepReport) => void;
}

type Attempt = { kind: 'status'; status: number; ms: number } | { kind: 'no-answer'; reason: string };

const NAME = 'HTTP probe';

/**
 * GETs a URL until it answers with the expected status or the attempts run out. A probe that fails is
 * a failed check, never an exception: the only throw is the abort of `ctx.signal` (with its reason),
 * because then nobody is waiting for the answer.
 */
export async function httpProbe(spec: HttpProbeSpec, ctx: HttpProbeContext): Promise<VerifyCheck> {
  const timeoutMs = spec.timeoutMs ?? 5_000;
  const attempts = Math.max(1, spec.attempts ?? 3);
  const intervalMs = spec.intervalMs ?? 1_000;
  const healthy = (status: number) =>
    spec.expectStatus === undefined ? status >= 200 && status < 300 : status === spec.expectStatus;
  const target = `GET ${spec.url}`;

  let last: Attempt | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    last = await getOnce(spec.url, timeoutMs, ctx.signal);
    if (last.kind === 'status' && healthy(last.status)) {
      const which = attempt > 1 ? ` (attempt ${attempt} of ${attempts})` : '';
      return { name: NAME, ok: true, detail: `${target} → ${last.status} in ${formatDuration(last.ms)}${which}` };
    }
    if (attempt < attempts) {
      ctx.report?.({
        status: 'progress',
        text: `HTTP probe: ${describe(target, last, spec.expectStatus)}, trying again in ${formatWait(intervalMs)} (attempt ${attempt} of ${attempts})`,
      });
      await sleep(intervalMs, ctx.signal);
    }
  }

  const outcome = last as Attempt;
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  const detail =
    outcome.kind === 'status'
      ? `${target} → ${outcome.status} after ${tries}${expected(spec.expectStatus)}`
      : `${target}: ${outcome.reason} (${tries})`;
  return { name: NAME, ok: false, detail };
}

function describe(target: string, attempt: Attempt, expectStatus: number | undefined): string {
  return attempt.kind === 'status'
    ? `${target} → ${attempt.status}${expected(expectStatus)}`
    : `${target}: ${attempt.reason}`;
}

function expected(expectStatus: number | undefined): string {
  return expectStatus === undefined ? '' : ` (expected ${expectStatus})`;
}

async function getOnce(url: string, timeoutMs: number, signal: AbortSignal): Promise<Attempt> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: 'GET',
      signal: AbortSignal.any([signal, timeout]),
      headers: { 'user-agent': 'rapid-rollback-verify' },
    });
    const ms = performance.now() - started;
    // The status is the answer; the body is not read, only released so the connection can close.
    await response.body?.cancel().catch(() => undefined);
    return { kind: 'status', status: response.status, ms };
  } catch (error) {
    if (signal.aborted) throw abortReason(signal);
    if (timeout.aborted) return { kind: 'no-answer', reason: `no answer within ${formatWait(timeoutMs)}` };
    return { kind: 'no-answer', reason: networkReason(error) };
  }
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed before an answer',
  UND_ERR_HEADERS_TIMEOUT: 'no answer (headers timeout)',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host name',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
};

/**
 * Why a fetch got no answer, in words: fetch says only "fetch failed"; the reason a person can act on
 * sits in `cause` (or its `errors`). Shared with the other verify checks.
 */
export function networkReason(error: unknown): string {
  const codes = errorCodes(error);
  const known = codes.find((code) => code in REASONS);
  if (known !== undefined) return REASONS[known] as string;
  if (codes[0] !== undefined) return `connection failed (${codes[0]})`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 4 || typeof error !== 'object' || error === null) return [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const nested = [cause, ...(Array.isArray(errors) ? errors : [])].flatMap((e) => errorCodes(e, depth + 1));
  return typeof code === 'string' ? [code, ...nested] : nested;
}

/** "5 s", "1.5 s", "250 ms": a configured wait, as people say it. */
export function formatWait(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(1))} s`;
  return formatDuration(ms);
}
