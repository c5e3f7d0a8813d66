import type { WebClient } from '@slack/web-api';
import type { ThreadNotes } from '../core/ports/thread-notes.js';
import type { Logger } from '../log.js';
import { renderText } from './render-text.js';

/** Core's lines after a rollback (a refused deploy, a lifted freeze), posted in its thread; a failure is logged. */
export function slackThreadNotes(client: WebClient, log: Logger): ThreadNotes {
  return {
    async post(thread, words) {
      await client.chat
        .postMessage({ channel: thread.channel, thread_ts: thread.ts, text: renderText(words), unfurl_links: false })
        .then(
          () => undefined,
          (err: unknown) => log.warn({ err, thread }, 'could not post in the rollback thread'),
        );
    },
  };
}
