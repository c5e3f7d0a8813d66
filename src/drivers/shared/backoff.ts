import { abortReason } from '../../core/abortable.js';

/** The first retry waits up to this long, each later one twice as long as the one before, up to a cap. */
const BACKOFF_BASE_MS = 250;

/**
 * How long to wait after failed try number `attempt` (from 1): what the server asked for (its
 * Retry-After, read with parseRetryAfter), else exponential backoff with equal jitter, between half and
 * all of min(capMs, 250 ms × 2^(attempt − 1)), so that clients failing together do not retry together.
 */
export function delayBefore(attempt: number, options: { askedMs?: number | undefined; capMs: number }): number {
  if (options.askedMs !== undefined) return options.askedMs;
  const ceiling = Math.min(options.capMs, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** One try: its value, or how it failed. */
export type TryResult<T, Failure> = { ok: true; value: T } | { ok: false; failure: Failure };

/** After a failed try: wait this long and try again, or give up with this error. */
export type RetryDecision = { waitMs: number } | { error: unknown };

/**
 * Tries until a try succeeds or `decide` gives up, waiting between tries as `decide` says; the provider
 * knows which failures are worth another try and what to say when it stops. The signal is checked
 * before every try and `sleep` honours it, so a cancelled rollback stops waiting at once.
 */
export async function withRetries<T, Failure>(
  tryOnce: (attempt: number) => Promise<TryResult<T, Failure>>,
  decide: (failure: Failure, attempt: number) => RetryDecision,
  options: { signal?: AbortSignal | undefined; sleep: (ms: number, signal?: AbortSignal) => Promise<void> },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const result = await tryOnce(attempt);
    if (result.ok) return result.value;
    const decision = decide(result.failure, attempt);
    if ('error' in decision) throw decision.error;
    await options.sleep(decision.waitMs, options.signal);
  }
}
