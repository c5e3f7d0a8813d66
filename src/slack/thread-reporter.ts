import type { KnownBlock, WebClient } from '@slack/web-api';
import type { ThreadRef } from '../core/request.js';
import type { FinishedRollback, ProgressReporter } from '../core/run-rollback.js';
import type { StepReport } from '../core/types.js';
import type { Logger } from '../log.js';
import { finishText, noticeStatus, stepText } from './blocks/progress-text.js';
import { afterRollbackMessage, followUpButtons, type NoticeFacts, rollingBackNotice } from './blocks/request-blocks.js';
import { LineBatcher, type Outcome } from './thread/line-batcher.js';
import { ProgressEditor } from './thread/progress-editor.js';
import { SerialSender } from './thread/serial-sender.js';
import { acquireThread } from './thread/shared-threads.js';

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
  /**
   * Share the thread's writer with the other reporters on the same thread in this process (the members of a
   * multi-target rollback): their lines are packed into few messages, in the order reported, and only a failure
   * or a progress line cuts a message short. Slack takes about one message a second per channel; a group of 100
   * posting a message each would take minutes to read.
   */
  shared?: boolean;
}

/** Members of a multi-target rollback each post the runbooks' checklist up to this many targets. */
const CHECKLISTS_UP_TO = 5;

/**
 * Streams a rollback into its Slack thread. Every call returns at once: messages go out one after
 * another in the order reported (SerialSender), so a slow or rate-limited Slack delays the thread, never
 * the rollback, and a message Slack fails to take for a while is tried again rather than dropped. Step
 * lines close together share a message, the outcome with the last of them (LineBatcher); progress lines
 * keep a message of their own between the steps around them, edited at most once a second
 * (ProgressEditor).
 */
export class SlackThreadReporter implements ProgressReporter {
  private readonly sender: SerialSender;
  private readonly lines: LineBatcher<KnownBlock>;
  private readonly progress: ProgressEditor;
  /** Set when the writer is shared (options.shared): given back once this reporter's lines are out. */
  private readonly releaseShared: (() => void) | undefined;

  constructor(
    private readonly client: WebClient,
    private readonly thread: ThreadRef,
    private readonly notice: NoticeFacts | undefined,
    log: Logger,
    options: ThreadReporterOptions = {},
  ) {
    const make = () => {
      const sender = new SerialSender(log, options.deliveryPatienceMs ?? 10 * 60_000);
      const lines = new LineBatcher<KnownBlock>(
        sender,
        (text, final) => this.postLines(text, final),
        options.lingerMs ?? 250,
      );
      return { sender, lines };
    };
    if (options.shared) {
      const { shared, release } = acquireThread(`${thread.channel}:${thread.ts}`, make);
      ({ sender: this.sender, lines: this.lines } = shared);
      this.releaseShared = release;
    } else {
      ({ sender: this.sender, lines: this.lines } = make());
      this.releaseShared = undefined;
    }
    const messages = {
      post: async (text: string) => (await this.post({ text })).ts,
      update: (ts: string, text: string) => this.client.chat.update({ channel: this.thread.channel, ts, text }),
    };
    this.progress = new ProgressEditor(this.sender, messages, options.progressIntervalMs ?? 1_000);
  }

  report(step: StepReport): void {
    if (step.status !== 'progress') {
      this.progress.close();
      this.lines.add(stepText(step), step.status === 'failed');
      return;
    }
    this.lines.release();
    this.progress.add(stepText(step));
  }

  finish(result: FinishedRollback): void {
    this.progress.close();
    // The outcome rides with the lines still gathering (the verification, usually): one Slack round trip
    // between the read-back and "back on", not two. On a shared thread an outcome without buttons is one more
    // line: the message goes on gathering the other members' lines.
    const buttons = followUpButtons(result.job.requestId, result.followUps);
    if (this.releaseShared && buttons.length === 0) this.lines.add(finishText(result), false);
    else this.lines.finish({ text: finishText(result), buttons });
    if (result.job.followUp) return;
    // A large multi-target rollback would bury its thread under checklists: each target's record has it.
    if (result.job.batch && result.job.batch.size > CHECKLISTS_UP_TO) return;
    const after = afterRollbackMessage(result.job.requestId, result.job.plan, Date.now());
    this.sender.send('checklist', () => this.post(after));
    const notice = this.notice;
    if (notice) {
      this.sender.send('notice', () =>
        this.client.chat.update({
          channel: this.thread.channel,
          ts: this.thread.ts,
          ...rollingBackNotice(notice, noticeStatus(result)),
        }),
      );
    }
  }

  flush(): Promise<void> {
    this.progress.close();
    // A shared writer's message goes when its linger ends, carrying the other members' lines with it.
    if (!this.releaseShared) this.lines.release();
    return this.sender.idle().finally(() => this.releaseShared?.());
  }

  /** Step lines, and the outcome with its buttons: a section holds the text when there are buttons. */
  private postLines(text: string, final: Outcome<KnownBlock> | undefined) {
    const buttons = final?.buttons ?? [];
    const blocks: KnownBlock[] | undefined =
      buttons.length > 0 ? [{ type: 'section', text: { type: 'mrkdwn', text } }, ...buttons] : undefined;
    return this.post({ text, ...(blocks ? { blocks } : {}) });
  }

  private post(message: { text: string; blocks?: KnownBlock[] }) {
    return this.client.chat.postMessage({
      channel: this.thread.channel,
      thread_ts: this.thread.ts,
      ...message,
      unfurl_links: false,
    });
  }
}
