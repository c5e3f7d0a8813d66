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

  async flush(): Promise<void> {
    await this.ready;
    await this.inner?.flush();
  }
}

/** Polls for a thread that another process will store, for at most `timeoutMs`. */
export async function waitForThread(read: () => Promise<ThreadRef | undefined>, timeoutMs: number, intervalMs = 250): Promise<ThreadRef | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const thread = await read().catch(() => undefined);
    if (thread || Date.now() >= deadline) return thread;
    await new Promise((resolve) => setTimeout(resolve, intervalMs).unref());
  }
}
