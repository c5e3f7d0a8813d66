import type { ThreadRef } from '../core/request.js';
import type { FinishedRollback, ProgressReporter } from '../core/run-rollback.js';
import type { StepReport } from '../core/types.js';

/**
 * A reporter for a job queued before Slack took its notice: it keeps every step, in order, until the
 * thread is known, then hands them to the real reporter. The rollback never waits for it.
 */
export class DeferredReporter implements ProgressReporter {
  private inner: ProgressReporter | undefined;
  private readonly pending: Array<(reporter: ProgressReporter) => void> = [];
  private readonly ready: Promise<void>;

  constructor(thread: Promise<ThreadRef | undefined>, build: (thread: ThreadRef | undefined) => ProgressReporter) {
    this.ready = thread.then(
      (found) => this.attach(build(found)),
      () => this.attach(build(undefined)),
    );
  }

  private attach(reporter: ProgressReporter): void {
    this.inner = reporter;
    for (const call of this.pending.splice(0)) call(reporter);
  }

  private call(action: (reporter: ProgressReporter) => void): void {
    if (this.inner) action(this.inner);
    else this.pending.push(action);
  }

  report(step: StepReport): void {
    this.call((r) => r.report(step));
  }

  finish(result: FinishedRollback): void {
    this.call((r) => r.finish(result));
  }

  /** Resolves once the notice's thread is known (or known not to come): the incident channel has been told. */
  announced(): Promise<void> {
    return this.ready;
  }

  async flush(): Promise<void> {
    await this.ready;
    await this.inner?.flush();
  }
}

/**
 * Polls for a thread that another process will store, for at most `timeoutMs`. `read` answers the thread,
 * `null` when it is known that none will come, or `undefined` for "not yet". It usually comes one Slack round
 * trip after the job starts, and the change waits for it: every 10 ms for the first 3 s (one small Redis read
 * each), then every `slowIntervalMs`.
 */
export async function waitForThread(
  read: () => Promise<ThreadRef | null | undefined>,
  timeoutMs: number,
  slowIntervalMs = 250,
): Promise<ThreadRef | undefined> {
  const started = Date.now();
  for (;;) {
    const thread = await read().catch(() => undefined);
    const waited = Date.now() - started;
    if (thread || thread === null || waited >= timeoutMs) return thread ?? undefined;
    await new Promise((resolve) => setTimeout(resolve, waited < 3_000 ? 10 : slowIntervalMs).unref());
  }
}
