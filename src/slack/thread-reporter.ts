import type { WebClient } from '@slack/web-api';
import type { ThreadRef } from '../core/request.js';
import type { FinishedRollback, ProgressReporter } from '../core/run-rollback.js';
import type { StepReport } from '../core/types.js';
import type { Logger } from '../log.js';
import { finishText, noticeStatus, stepText } from './blocks/progress-text.js';
import { afterRollbackMessage, followUpButtons, rollingBackNotice, type NoticeFacts } from './blocks/request-blocks.js';

/** Consecutive progress lines share one message, edited in place. */
interface ProgressGroup {
  lines: string[];
  ts?: string | undefined;
}

const MAX_PROGRESS_LINES = 15;

export interface ThreadReporterOptions {
  /** The fastest a progress message is edited (Slack allows about one update per second per message). */
  progressIntervalMs?: number;
}

/**
 * Streams a rollback into its Slack thread. Every call returns at once: messages go out one after
 * another in the order reported, so a slow or rate-limited Slack delays the thread, never the rollback.
 * Progress lines (rollout status, helm output) are merged into one message edited at most once a second.
 */
export class SlackThreadReporter implements ProgressReporter {
  private tail: Promise<void> = Promise.resolve();
  private group: ProgressGroup | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastProgressAt = 0;
  private readonly progressIntervalMs: number;

  constructor(
    private readonly client: WebClient,
    private readonly thread: ThreadRef,
    private readonly notice: NoticeFacts | undefined,
    private readonly log: Logger,
    options: ThreadReporterOptions = {},
  ) {
    this.progressIntervalMs = options.progressIntervalMs ?? 1_000;
  }

  private send(what: string, call: () => Promise<unknown>): void {
    this.tail = this.tail.then(call).then(
      () => undefined,
      (error: unknown) => this.log.warn({ err: error, what }, 'could not update the Slack thread'),
    );
  }

  private post(text: string): void {
    this.send('reply', () => this.client.chat.postMessage({ channel: this.thread.channel, thread_ts: this.thread.ts, text, unfurl_links: false }));
  }

  report(step: StepReport): void {
    if (step.status !== 'progress') {
      this.closeProgress();
      this.post(stepText(step));
      return;
    }
    this.group ??= { lines: [] };
    this.group.lines.push(stepText(step));
    if (this.group.lines.length > MAX_PROGRESS_LINES) this.group.lines.splice(1, 1);
    if (!this.timer) {
      const wait = Math.max(0, this.lastProgressAt + this.progressIntervalMs - Date.now());
      this.timer = setTimeout(() => this.sendProgress(), wait);
    }
  }

  private sendProgress(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.group;
    if (!group) return;
    this.lastProgressAt = Date.now();
    const text = group.lines.join('\n');
    this.send('progress', async () => {
      if (group.ts) {
        await this.client.chat.update({ channel: this.thread.channel, ts: group.ts, text });
      } else {
        const posted = await this.client.chat.postMessage({ channel: this.thread.channel, thread_ts: this.thread.ts, text, unfurl_links: false });
        group.ts = posted.ts;
      }
    });
  }

  /** Sends what is pending of the current progress message; the next progress line starts a new one. */
  private closeProgress(): void {
    if (this.timer) this.sendProgress();
    this.group = undefined;
  }

  finish(result: FinishedRollback): void {
    this.closeProgress();
    const text = finishText(result);
    const buttons = followUpButtons(result.job.requestId, result.followUps);
    this.send('finish', () =>
      this.client.chat.postMessage({
        channel: this.thread.channel,
        thread_ts: this.thread.ts,
        text,
        ...(buttons.length > 0 ? { blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, ...buttons] } : {}),
        unfurl_links: false,
      }),
    );
    if (!result.job.followUp) {
      const after = afterRollbackMessage(result.job.requestId, result.job.plan, Date.now());
      this.send('checklist', () => this.client.chat.postMessage({ channel: this.thread.channel, thread_ts: this.thread.ts, ...after, unfurl_links: false }));
    }
    const notice = result.job.followUp ? undefined : this.notice;
    if (notice) {
      this.send('notice', () => this.client.chat.update({ channel: this.thread.channel, ts: this.thread.ts, ...rollingBackNotice(notice, noticeStatus(result)) }));
    }
  }

  flush(): Promise<void> {
    this.closeProgress();
    return this.tail;
  }
}
