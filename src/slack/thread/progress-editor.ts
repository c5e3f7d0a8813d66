import { sleep } from '../../core/abortable.js';
import type { SerialSender } from './serial-sender.js';

/** How a progress message reaches Slack: posted once in the thread, then edited. */
interface ProgressMessages {
  /** Posts the message; resolves with its ts. */
  post(text: string): Promise<string | undefined>;
  update(ts: string, text: string): Promise<unknown>;
}

/** Consecutive progress lines share one message, edited in place. */
interface ProgressGroup {
  lines: string[];
  ts?: string | undefined;
  /** What Slack shows now. */
  shown?: string | undefined;
  /** A send of this group waits with the sender: new lines ride along with it. */
  queued: boolean;
  lastSentAt: number;
}

const MAX_PROGRESS_LINES = 15;

/**
 * Progress lines (rollout status, helm output) in one message of their own, edited in place, at most
 * once per `intervalMs` (Slack allows about one update a second per message), counted from when Slack
 * took the last edit. At most one send of the message waits with the sender at a time, and it shows the
 * lines as they are when it goes, tried again included: when Slack lags, the lines that came meanwhile go
 * out in one edit, never a stale one. It keeps the first line and the last ones (15 in all). After
 * `close()`, the next progress line starts a new message.
 */
export class ProgressEditor {
  private group: ProgressGroup | undefined;

  constructor(
    private readonly sender: SerialSender,
    private readonly messages: ProgressMessages,
    private readonly intervalMs: number,
  ) {}

  add(text: string): void {
    this.group ??= { lines: [], queued: false, lastSentAt: 0 };
    this.group.lines.push(text);
    if (this.group.lines.length > MAX_PROGRESS_LINES) this.group.lines.splice(1, 1);
    this.queue(this.group);
  }

  /** The current message gets its last lines; the next progress line starts a new one. */
  close(): void {
    if (this.group) this.queue(this.group);
    this.group = undefined;
  }

  private queue(group: ProgressGroup): void {
    if (group.queued) return;
    group.queued = true;
    this.sender.send('progress', () => this.show(group));
  }

  private async show(group: ProgressGroup): Promise<void> {
    // Nothing new since the last edit: do not sleep out the second, or every later message waits for it.
    if (group.lines.join('\n') === group.shown) {
      group.queued = false;
      return;
    }
    const wait = group.ts ? group.lastSentAt + this.intervalMs - Date.now() : 0;
    if (wait > 0) await sleep(wait);
    group.queued = false;
    const text = group.lines.join('\n');
    if (text === group.shown) return;
    group.lastSentAt = Date.now();
    if (group.ts) await this.messages.update(group.ts, text);
    else group.ts = await this.messages.post(text);
    // Counted from when Slack took it: after a rate-limited wait, the next edit still waits its second.
    group.lastSentAt = Date.now();
    group.shown = text;
  }
}
