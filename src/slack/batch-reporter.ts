import type { WebClient } from '@slack/web-api';
import type { BatchOutcome, BatchReporter } from '../core/batch.js';
import type { ThreadRef } from '../core/request.js';
import type { Logger } from '../log.js';
import { batchNoticeStatus, batchSummaryText, rollingBackBatchNotice } from './blocks/batch-blocks.js';

/**
 * A multi-target rollback's end in Slack: the summary as the thread's last line, and the notice's status
 * ("✅ done in 3.1 s", or how many did not make it). Without a thread, the summary goes to the log.
 */
export function slackBatchReporter(client: WebClient, log: Logger): BatchReporter {
  return {
    async ended(outcome: BatchOutcome, thread: ThreadRef | undefined): Promise<void> {
      const summary = batchSummaryText(outcome);
      log.info(
        { batch: outcome.batch.id, succeeded: outcome.succeeded, of: outcome.members.length, ms: outcome.elapsedMs },
        'multi-target rollback ended',
      );
      if (!thread) return;
      await client.chat
        .postMessage({ channel: thread.channel, thread_ts: thread.ts, text: summary, unfurl_links: false })
        .catch((err: unknown) => log.warn({ err }, 'could not post the summary of the multi-target rollback'));
      if (thread.root !== 'notice') return;
      const members = outcome.members.map((m) => ({
        target: m.target,
        plan: m.plan,
        approver: m.approver,
        breakGlass: m.breakGlass,
      }));
      await client.chat
        .update({
          channel: thread.channel,
          ts: thread.ts,
          ...rollingBackBatchNotice(
            { name: outcome.batch.name, reason: outcome.reason, requester: outcome.requester },
            members,
            batchNoticeStatus(outcome),
          ),
        })
        .catch((err: unknown) => log.warn({ err }, 'could not update the notice of the multi-target rollback'));
    },
  };
}
