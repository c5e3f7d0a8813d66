import { FINAL_STATES, type RequestStore, type RollbackRequest } from '../core/request.js';
import type { TimelineEvent } from '../core/timeline.js';

export interface FollowOptions {
  onEvent(event: TimelineEvent): void;
  /** Give up following (not the rollback) after this long. */
  timeoutMs: number;
  /** Stop following now (Ctrl-C). */
  signal?: AbortSignal | undefined;
  intervalMs?: number;
}

export interface Followed {
  request: RollbackRequest | undefined;
  timeline: TimelineEvent[];
  ended: boolean;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Follows a request through its durable timeline in Redis until it ends. It works whichever worker
 * runs the job (this process, the bot, another host), since every worker writes the same record.
 */
export async function followRequest(store: RequestStore, id: string, options: FollowOptions): Promise<Followed> {
  const deadline = Date.now() + options.timeoutMs;
  let timeline: TimelineEvent[] = [];
  for (;;) {
    // The request before its timeline: run-rollback writes the whole timeline before it marks the
    // request finished, so a request read as ended has every event already.
    const request = await store.get(id);
    const next = await store.timeline(id);
    for (const event of next.slice(timeline.length)) options.onEvent(event);
    timeline = next;
    const ended = request !== undefined && FINAL_STATES.includes(request.state);
    if (ended || Date.now() >= deadline || options.signal?.aborted) return { request, timeline, ended };
    await pause(options.intervalMs ?? 150, options.signal);
  }
}
