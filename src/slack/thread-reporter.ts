import type { KnownBlock, WebClient } from '@slack/web-api';
import { sleep } from '../core/abortable.js';
import type { ThreadRef } from '../core/request.js';
import type { FinishedRollback, ProgressReporter } from '../core/run-rollback.js';
import type { StepReport } from '../core/types.js';
import type { Logger } from '../log.js';
import { finishText, noticeStatus, stepText } from './blocks/progress-text.js';
import { afterRollbackMessage, followUpButtons, type NoticeFacts, rollingBackNotice } from './blocks/request-blocks.js';

/** Consecutive progress lines share one message, edited in place. */
interface ProgressGroup {
  lines: string[];
  ts?: string | undefined;
  /** What Slack shows now. */
  shown?: string | undefined;
  /** A send of this group waits in the queue: new lines ride along with it. */
  queued: boolean;
  lastSentAt: number;
}

/** Step lines gathered into one message, and the outcome when it comes with them. */
interface Batch {
  lines: string[];
  /** Characters so far (lines and their newlines). */
  length: number;
  final?: { text: string; buttons: KnownBlock[] } | undefined;
  release(): void;
}

const MAX_PROGRESS_LINES = 15;
/** Lines merged into one message stay well under Slack's 4 000-character advice for a message's text. */
const MAX_MERGED_CHARS = 3_500;
/** A message with buttons carries its text in a section block, which holds at most 3 000 characters. */
const SECTION_MAX_CHARS = 3_000;
/** The longest wait between two tries of a message Slack could not take for a while. */
const MAX_RETRY_WAIT_MS = 30_000;

export interface ThreadReporterOptions {
  /**
   * How long a step line waits for the next ones before it goes out on its own (default 250 ms): the thread
   * reads as a few messages, not one per step, and the last of them is the outcome. A failure never waits.
   */
  lingerMs?: number;
  /** The fastest a progress message is edited (Slack allows about one update per second per message). */
  progressIntervalMs?: number;
  /**
   * How long a message is tried again while Slack rate-limits or fails (429, 5xx, no connection), after the
   * Web API client's own retries gave up. Default 10 minutes: a thread arrives late rather than with a hole.
   */
  deliveryPatienceMs?: number;
}

/** Slack said "not now" (rate limit, its own failure, the network), not "never" (a bad channel, a bad message). */
export function isTransientSlackFailure(error: unknown): boolean {
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

/**
 * Streams a rollback into its Slack thread. Every call returns at once: messages go out one after
 * another in the order reported, so a slow or rate-limited Slack delays the thread, never the rollback,
 * and a message Slack fails to take for a while is tried again rather than dropped.
 * Progress lines (rollout status, helm output) are merged into one message edited at most once a second;
 * when Slack lags, the lines that came meanwhile go out in one edit, not one edit each.
 */
export class SlackThreadReporter implements ProgressReporter {
  private tail: Promise<void> = Promise.resolve();
  private group: ProgressGroup | undefined;
  private batch: Batch | undefined;
  private readonly lingerMs: number;
  private readonly progressIntervalMs: number;
  private readonly deliveryPatienceMs: number;

  constructor(
    private readonly client: WebClient,
    private readonly thread: ThreadRef,
    private readonly notice: NoticeFacts | undefined,
    private readonly log: Logger,
    options: ThreadReporterOptions = {},
  ) {
    this.progressIntervalMs = options.progressIntervalMs ?? 1_000;
    this.lingerMs = options.lingerMs ?? 250;
    this.deliveryPatienceMs = options.deliveryPatienceMs ?? 10 * 60_000;
  }

  private send(what: string, call: () => Promise<unknown>): void {
    this.tail = this.tail
      .then(() => this.deliver(what, call))
      .then(
        () => undefined,
        (error: unknown) => this.log.warn({ err: error, what }, 'could not update the Slack thread'),
      );
  }

  /** One message, tried again while Slack's failure is passing, for up to deliveryPatienceMs. */
  private async deliver(what: string, call: () => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + this.deliveryPatienceMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await call();
        return;
      } catch (error) {
        if (!isTransientSlackFailure(error) || Date.now() >= deadline) throw error;
        const retryAfterMs = ((error as { retryAfter?: number }).retryAfter ?? 0) * 1_000;
        const waitMs = Math.min(
          MAX_RETRY_WAIT_MS,
          Math.max(retryAfterMs, 1_000 * 2 ** Math.min(attempt, 5)),
          Math.max(0, deadline - Date.now()),
        );
        this.log.warn({ err: error, what, waitMs }, 'Slack did not take a thread message; trying again');
        await sleep(waitMs);
      }
    }
  }

  /**
   * Adds a step line to the message being gathered, or starts one. That message waits in the queue
   * until the linger ends (or a failure, a progress line, the finish or a flush), and takes every line
   * reported meanwhile: "Worker started", "Checked" and "Activated" become one message, and so do lines
   * that came while Slack was still taking the previous one.
   */
  private addLine(text: string, urgent: boolean): void {
    const batch = this.batch && this.batch.length + text.length + 1 <= MAX_MERGED_CHARS ? this.batch : this.openBatch();
    batch.lines.push(text);
    batch.length += text.length + 1;
    if (urgent) this.releaseBatch();
  }

  private openBatch(): Batch {
    this.releaseBatch();
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const timer = setTimeout(release, this.lingerMs);
    timer.unref();
    const batch: Batch = {
      lines: [],
      length: 0,
      release: () => {
        clearTimeout(timer);
        release();
      },
    };
    this.batch = batch;
    this.send('reply', async () => {
      await gate;
      // From here on new lines start the next message.
      if (this.batch === batch) this.batch = undefined;
      const final = batch.final;
      const text = [...batch.lines, ...(final ? [final.text] : [])].join('\n');
      await this.client.chat.postMessage({
        channel: this.thread.channel,
        thread_ts: this.thread.ts,
        text,
        ...(final && final.buttons.length > 0
          ? { blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, ...final.buttons] }
          : {}),
        unfurl_links: false,
      });
    });
    return batch;
  }

  /** The message being gathered goes out as soon as the queue reaches it; later lines start a new one. */
  private releaseBatch(): void {
    this.batch?.release();
    this.batch = undefined;
  }

  report(step: StepReport): void {
    if (step.status !== 'progress') {
      this.closeProgress();
      this.addLine(stepText(step), step.status === 'failed');
      return;
    }
    this.releaseBatch();
    this.group ??= { lines: [], queued: false, lastSentAt: 0 };
    this.group.lines.push(stepText(step));
    if (this.group.lines.length > MAX_PROGRESS_LINES) this.group.lines.splice(1, 1);
    this.sendProgress(this.group);
  }

  /**
   * Queues one send of the group unless one is queued already. The send itself shows the lines as they are
   * when it runs, and waits out the rest of the second since the last edit of that message.
   */
  private sendProgress(group: ProgressGroup): void {
    if (group.queued) return;
    group.queued = true;
    this.send('progress', async () => {
      // Nothing new since the last edit: do not sleep out the second, or every later message waits for it.
      if (group.lines.join('\n') === group.shown) {
        group.queued = false;
        return;
      }
      if (group.ts) {
        const wait = group.lastSentAt + this.progressIntervalMs - Date.now();
        if (wait > 0) await sleep(wait);
      }
      group.queued = false;
      const text = group.lines.join('\n');
      if (text === group.shown) return;
      group.lastSentAt = Date.now();
      if (group.ts) {
        await this.client.chat.update({ channel: this.thread.channel, ts: group.ts, text });
      } else {
        const posted = await this.client.chat.postMessage({
          channel: this.thread.channel,
          thread_ts: this.thread.ts,
          text,
          unfurl_links: false,
        });
        group.ts = posted.ts;
      }
      // Counted from when Slack took it: after a rate-limited wait, the next edit still waits its second.
      group.lastSentAt = Date.now();
      group.shown = text;
    });
  }

  /** The current progress message gets its last lines; the next progress line starts a new one. */
  private closeProgress(): void {
    if (this.group) this.sendProgress(this.group);
    this.group = undefined;
  }

  finish(result: FinishedRollback): void {
    this.closeProgress();
    const text = finishText(result);
    const buttons = followUpButtons(result.job.requestId, result.followUps);
    // The outcome rides with the lines still gathering (the verification, usually): one Slack round trip
    // between the read-back and "back on", not two. A section shows at most 3 000 characters.
    const batch =
      this.batch && (buttons.length === 0 || this.batch.length + text.length <= SECTION_MAX_CHARS)
        ? this.batch
        : this.openBatch();
    batch.final = { text, buttons };
    this.releaseBatch();
    if (!result.job.followUp) {
      const after = afterRollbackMessage(result.job.requestId, result.job.plan, Date.now());
      this.send('checklist', () =>
        this.client.chat.postMessage({
          channel: this.thread.channel,
          thread_ts: this.thread.ts,
          ...after,
          unfurl_links: false,
        }),
      );
    }
    const notice = result.job.followUp ? undefined : this.notice;
    if (notice) {
      this.send('notice', () =>
        this.client.chat.update({
          channel: this.thread.channel,
          ts: this.thread.ts,
          ...rollingBackNotice(notice, noticeStatus(result)),
        }),
      );
    }
  }

  flush(): Promise<void> {
    this.closeProgress();
    this.releaseBatch();
    return this.tail;
  }
}
