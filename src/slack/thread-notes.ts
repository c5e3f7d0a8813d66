import type { WebClient } from '@slack/web-api';
import type { ThreadNotes } from '../core/ports/thread-notes.js';
import type { Logger } from '../log.js';
import { renderText } from './render-text.js';
import { escapeForSlack } from './slack-text.js';

/** The button a lifted freeze offers when its rollback suspended a GitOps controller; its value is the rollback's id. */
export const GITOPS_RESUME_ACTION = 'gitops_resume';

/**
 * Core's lines after a rollback (a refused deploy, a lifted freeze, a drift), posted in its thread or in the
 * incident channel; a failure is logged, never thrown.
 */
export function slackThreadNotes(client: WebClient, incidentChannel: string, log: Logger): ThreadNotes {
  const say = async (message: { channel: string; thread_ts?: string; text: string; blocks?: unknown[] }) => {
    await client.chat
      .postMessage({ ...message, unfurl_links: false } as Parameters<WebClient['chat']['postMessage']>[0])
      .then(
        () => undefined,
        (err: unknown) => log.warn({ err, channel: message.channel }, 'could not post a line after a rollback'),
      );
  };
  return {
    post: (thread, words) => say({ channel: thread.channel, thread_ts: thread.ts, text: renderText(words) }),
    broadcast: (words) => say({ channel: incidentChannel, text: renderText(words) }),
    offerResume: (thread, words, offer) => {
      const line = renderText(words);
      return say({
        channel: thread.channel,
        thread_ts: thread.ts,
        text: line,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: line } },
          {
            type: 'actions',
            elements: [
              {
                type: 'button',
                action_id: GITOPS_RESUME_ACTION,
                text: { type: 'plain_text', text: offer.label.slice(0, 75) },
                value: offer.requestId,
                confirm: {
                  title: { type: 'plain_text', text: 'Resume the GitOps controller?' },
                  text: { type: 'mrkdwn', text: `${escapeForSlack(offer.label)}: it will deploy what git says.` },
                  confirm: { type: 'plain_text', text: 'Resume' },
                  deny: { type: 'plain_text', text: 'Not now' },
                },
              },
            ],
          },
        ],
      });
    },
  };
}
