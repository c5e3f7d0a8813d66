import type { App, RespondFn } from '@slack/bolt';
import { isRollbackError, toRollbackError } from '../../core/errors.js';
import type { ThreadRef } from '../../core/request.js';
import type { RollbackService } from '../../core/rollback-service.js';
import type { Logger } from '../../log.js';
import { helpText, historyText, statusText } from '../blocks/help-blocks.js';
import { approvalRequestMessage } from '../blocks/request-blocks.js';
import { parseCommand } from '../command.js';
import { postInChannel, threadLink } from '../post-to-channel.js';
import { renderText } from '../render-text.js';

function ephemeral(text: string) {
  return { response_type: 'ephemeral' as const, text };
}

/** Tells the requester what went wrong, only to them; never throws. */
async function refuse(respond: RespondFn, error: unknown, log: Logger): Promise<void> {
  // Redis down is an outage to report in words, not a bug: the requester hears it at once.
  const coded = toRollbackError(error);
  if (coded.code === 'QUEUE_UNAVAILABLE') log.warn({ err: error }, 'rollback command: Redis is not answering');
  else if (!isRollbackError(error)) log.error({ err: error }, 'rollback command failed');
  const thread = coded.code === 'TARGET_LOCKED' ? (coded.details.thread as ThreadRef | undefined) : undefined;
  const link = thread
    ? `
Follow it here: ${threadLink(thread)}`
    : '';
  await respond(ephemeral(`❌ ${renderText(coded.userText())}${link}`)).catch((err: unknown) =>
    log.warn({ err }, 'could not answer the requester'),
  );
}

/**
 * `/rollback`: acknowledged before any I/O (Slack allows 3 s), then planned and posted for approval.
 * Answers that need no I/O (help, bad input, unknown target) go in the acknowledgement itself.
 */
export function registerRollbackCommand(app: App, service: RollbackService, log: Logger): void {
  app.command('/rollback', async ({ command, ack, respond, client }) => {
    const parsed = parseCommand(command.text ?? '');
    if (parsed.kind === 'help') {
      await ack(ephemeral(helpText(service.targetNames(), service.rules)));
      return;
    }
    if (parsed.kind === 'invalid') {
      await ack(ephemeral(`❌ ${parsed.message}`));
      return;
    }
    if (parsed.kind === 'history') {
      await ack(ephemeral('⏳ Reading the record…'));
      try {
        await respond(ephemeral(historyText(await service.queries.history(parsed.target), parsed.target)));
      } catch (error) {
        await refuse(respond, error, log);
      }
      return;
    }
    if (parsed.kind === 'list') {
      await ack(ephemeral('⏳ Reading every target…'));
      try {
        await respond(ephemeral(statusText(await service.queries.status())));
      } catch (error) {
        await refuse(respond, error, log);
      }
      return;
    }

    try {
      service.driver(parsed.target);
    } catch (error) {
      await ack(ephemeral(`❌ ${renderText(toRollbackError(error).userText())}`));
      return;
    }
    const version = parsed.toVersion ? ` to v${parsed.toVersion}` : '';
    await ack(ephemeral(`⏳ Planning a rollback of \`${parsed.target}\`${version}…`));

    const reqLog = log.child({ target: parsed.target, requester: command.user_id });
    try {
      const request = await service.request({
        target: parsed.target,
        toVersion: parsed.toVersion,
        reason: parsed.reason,
        requester: command.user_id,
        origin: { channel: command.channel_id },
      });
      const message = approvalRequestMessage(request, service.rules);
      try {
        const posted = await postInChannel(client, { channel: command.channel_id, ...message, unfurl_links: false });
        await service.recordOrigin(request.id, { channel: posted.channel, messageTs: posted.ts });
      } catch (error) {
        // A private channel or a DM the bot is not in: the command's response_url still reaches it.
        reqLog.info({ err: error }, 'posting through the response_url instead');
        await respond({ response_type: 'in_channel', ...message });
      }
    } catch (error) {
      await refuse(respond, error, reqLog);
    }
  });
}
