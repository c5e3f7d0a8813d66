import { sleep } from '../../core/abortable.js';
import type { Logger } from '../../log.js';

/** The longest wait between two tries of a message Slack could not take for a while. */
const MAX_RETRY_WAIT_MS = 30_000;

/**
 * Sends a thread's messages one after another, in the order they were given. `send` returns at once, so
 * a slow or rate-limited Slack delays the thread, never the caller. A send Slack refuses for a while
 * (rate limit, its own failure, no connection) is tried again, the whole `call` each time, with a growing
 * wait (Slack's Retry-After when it gives one) for up to `patienceMs`; one it refuses for good is logged
 * and dropped, and the sends after it still go.
 */
export class SerialSender {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: Logger,
    private readonly patienceMs: number,
  ) {}

  send(what: string, call: () => Promise<unknown>): void {
    this.tail = this.tail
      .then(() => this.deliver(what, call))
      .then(
        () => undefined,
        (error: unknown) => this.log.warn({ err: error, what }, 'could not update the Slack thread'),
      );
  }

  /** Resolves when everything sent so far was delivered or given up on. */
  idle(): Promise<void> {
    return this.tail;
  }

  private async deliver(what: string, call: () => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + this.patienceMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await call();
        return;
      } catch (error) {
        if (!isTransientSlackFailure(error) || Date.now() >= deadline) throw error;
        const waitMs = retryWait(error, attempt, deadline);
        this.log.warn({ err: error, what, waitMs }, 'Slack did not take a thread message; trying again');
        await sleep(waitMs);
      }
    }
  }
}

/** Slack's Retry-After, else 1, 2, 4… 32 s, capped at MAX_RETRY_WAIT_MS and at the time left. */
function retryWait(error: unknown, attempt: number, deadline: number): number {
  const retryAfterMs = ((error as { retryAfter?: number }).retryAfter ?? 0) * 1_000;
  return Math.min(
    MAX_RETRY_WAIT_MS,
    Math.max(retryAfterMs, 1_000 * 2 ** Math.min(attempt, 5)),
    Math.max(0, deadline - Date.now()),
  );
}

/** Slack said "not now" (rate limit, its own failure, the network), not "never" (a bad channel, a bad message). */
function isTransientSlackFailure(error: unknown): boolean {
  const { code, statusCode, data } = (error ?? {}) as { code?: string; statusCode?: number; data?: { error?: string } };
  if (code === 'slack_webapi_request_error' || code === 'slack_webapi_rate_limited_error') return true;
  if (code === 'slack_webapi_http_error')
    return statusCode === undefined || statusCode >= 500 || statusCode === 429 || statusCode === 408;
  if (code === 'slack_webapi_platform_error')
    return ['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'].includes(
      data?.error ?? '',
    );
  return false;
}
