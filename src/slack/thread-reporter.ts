import type { WebClient } from '@slack/web-api';
import type { ThreadRef } from '../core/request.js';
import type { FinishedRollback, ProgressReporter } from '../core/run-rollback.js';
import type { StepReport } from '../core/types.js';
import type { Logger } from '../log.js';
import { finishText, noticeStatus, stepText } from './blocks/progress-text.js';
import { rollingBackNotice, type NoticeFacts } from './blocks/request-blocks.js';

/**
 * Streams a rollback into its Slack thread. Every call returns at once: messages go out one after
 * another in the order reported, so a slow or rate-limited Slack delays the thread, never the rollback.
 */
export class SlackThreadReporter implements ProgressReporter {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: WebClient,
    private readonly thread: ThreadRef,
    private readonly notice: NoticeFacts | undefined,
    private readonly log: Logger,
  ) {}

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
    this.post(stepText(step));
  }

  finish(result: FinishedRollback): void {
    this.post(finishText(result));
    const notice = this.notice;
    if (notice) {
      this.send('notice', () => this.client.chat.update({ channel: this.thread.channel, ts: this.thread.ts, ...rollingBackNotice(notice, noticeStatus(result)) }));
    }
  }

  flush(): Promise<void> {
    return this.tail;
  }
}
