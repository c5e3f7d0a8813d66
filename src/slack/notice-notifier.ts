import type { WebClient } from '@slack/web-api';
import { toRollbackError } from '../core/errors.js';
import type { Announcement, Notifier } from '../core/ports/notifier.js';
import type { RollbackRequest, ThreadRef } from '../core/request.js';
import type { Logger } from '../log.js';
import { rollingBackBatchNotice } from './blocks/batch-blocks.js';
import { rollingBackNotice } from './blocks/request-blocks.js';
import { postInChannel } from './post-to-channel.js';
import { renderText } from './render-text.js';

/**
 * Core's Notifier in Slack: the "Rolling back" notice in the incident channel roots the rollback's thread.
 * When the bot cannot post there, the steps go to the request message's own thread, with the reason.
 */
export function noticeNotifier(client: WebClient, incidentChannel: string, log: Logger): Notifier {
  const post = async (
    notice: { text: string; blocks: unknown[] },
    origin: RollbackRequest['origin'],
  ): Promise<Announcement> => {
    try {
      const posted = await postInChannel(client, {
        channel: incidentChannel,
        ...(notice as { text: string }),
        unfurl_links: false,
      });
      return { thread: { ...posted, root: 'notice' } };
    } catch (error) {
      log.warn({ err: error }, 'could not post the notice in the incident channel; using the request thread');
      const fallback = origin.messageTs
        ? { channel: origin.channel, ts: origin.messageTs, root: 'request' as const }
        : undefined;
      return { thread: fallback, problem: toRollbackError(error) };
    }
  };
  return {
    announce: (request) => post(rollingBackNotice(request), request.origin),
    announceBatch: (batch, requests) => post(rollingBackBatchNotice(batch, requests), batch.origin),
    notStarted: (thread, error) => postInThread(client, thread, `❌ ${renderText(error.userText())}`, log),
  };
}

/** A follow-up runs in its rollback's thread: no new notice. */
export function threadNotifier(client: WebClient, log: Logger): Notifier {
  return {
    announce: async (request) => ({ thread: request.thread }),
    announceBatch: async (_batch, requests) => ({ thread: requests[0]?.thread }),
    notStarted: (thread, error) => postInThread(client, thread, `❌ ${renderText(error.userText())}`, log),
  };
}

async function postInThread(client: WebClient, thread: ThreadRef, text: string, log: Logger): Promise<void> {
  await client.chat.postMessage({ channel: thread.channel, thread_ts: thread.ts, text }).then(
    () => undefined,
    (err: unknown) => log.warn({ err }, 'could not say in the thread that the rollback did not start'),
  );
}
