import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { isRollbackError, toRollbackError } from '../../core/errors.js';
import type { RollbackService } from '../../core/rollback-service.js';
import type { Logger } from '../../log.js';
import { SHOW_DIFF_ACTION } from '../blocks/changes-blocks.js';
import { diffMessages } from '../diff-messages.js';
import { mention, renderText } from '../render-text.js';
import { escapeForSlack } from '../slack-text.js';
import { clickOf, tellClicker } from './click.js';

/**
 * "Show diff" under a plan: the provider's full diff, read again now (it is not kept with the request), posted in
 * the request message's thread in code blocks split to Slack's message size. Anyone in the channel may ask; it
 * changes nothing.
 */
export function registerDiffActions(
  app: App,
  service: RollbackService,
  log: Logger,
  afterAcks: () => Promise<void> = () => Promise.resolve(),
): void {
  app.action<BlockAction<ButtonAction>>(SHOW_DIFF_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await afterAcks();
    const click = clickOf(body, action, respond, client);
    const clickLog = log.child({ requestId: click.requestId });
    try {
      const { request, diff } = await service.queries.fullDiff(click.requestId, click.from);
      const { plan } = request;
      const threadTs = body.message?.thread_ts ?? body.message?.ts;
      const what = `${escapeForSlack(plan.target)} ${escapeForSlack(plan.from.label)} → ${escapeForSlack(plan.to.label)}`;
      const parts = diffMessages(
        diff,
        (i, n) =>
          `Diff of ${what} (live → restored), asked by ${mention(click.user)}${n > 1 ? ` · part ${i} of ${n}` : ''}:`,
      );
      // One after the other: the parts must read in order.
      for (const text of parts) {
        await client.chat.postMessage({
          channel: click.from.channel,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          text,
          unfurl_links: false,
          unfurl_media: false,
        });
      }
    } catch (error) {
      if (!isRollbackError(error)) clickLog.error({ err: error }, 'show diff failed');
      await tellClicker(click, `❌ diff not available: ${renderText(toRollbackError(error).userText())}`, clickLog);
    }
  });
}
