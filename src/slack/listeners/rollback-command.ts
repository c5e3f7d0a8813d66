import type { App, RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { toRollbackError } from '../../core/errors.js';
import type { RollbackService } from '../../core/rollback-service.js';
import type { Logger } from '../../log.js';
import { batchRefusedText, batchRequestMessage } from '../blocks/batch-blocks.js';
import { helpText, historyText, statusText } from '../blocks/help-blocks.js';
import { approvalRequestMessage } from '../blocks/request-blocks.js';
import { type Command, parseCommand } from '../command.js';
import { postInChannel } from '../post-to-channel.js';
import { renderText } from '../render-text.js';
import { ephemeral, refuse } from './answer-requester.js';
import { askToUnfreeze, freezeByHand } from './freeze-command.js';

/** How many ended freezes `/rollback history` shows under the rollbacks. */
const ENDED_FREEZES_SHOWN = 5;

/**
 * `/rollback`: acknowledged before any I/O (Slack allows 3 s), then planned and posted for approval.
 * Answers that need no I/O (help, bad input, unknown target) go in the acknowledgement itself.
 */
export function registerRollbackCommand(
  app: App,
  service: RollbackService,
  log: Logger,
  /** Resolves when the answers owed to other Slack requests are out (ack-gate.ts); planning waits for it. */
  afterAcks: () => Promise<void> = () => Promise.resolve(),
): void {
  app.command('/rollback', async ({ command, ack, respond, client }) => {
    const parsed = parseCommand(command.text ?? '', { targets: service.targetNames(), groups: service.groups() });
    if (parsed.kind === 'help') {
      await ack(ephemeral(helpText(service.targetNames(), service.helpApprovals())));
      return;
    }
    if (parsed.kind === 'invalid') {
      await ack(ephemeral(`❌ ${parsed.message}`));
      return;
    }
    if (parsed.kind === 'history') {
      await ack(ephemeral('⏳ Reading the record…'));
      try {
        // One after the other: an unknown target is refused by the first, and nothing is left unawaited.
        const rollbacks = await service.queries.history(parsed.target);
        const freezes = await service.freezes.history(parsed.target, ENDED_FREEZES_SHOWN);
        await respond(ephemeral(historyText(rollbacks, parsed.target, freezes)));
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
    if (parsed.kind === 'rollback-many') {
      await ack(
        ephemeral(`⏳ Planning a rollback of \`${parsed.name}\`: ${parsed.targets.length} targets, one approval…`),
      );
      await afterAcks();
      await requestBatch(parsed, { user: command.user_id, channel: command.channel_id, respond, client }, service, log);
      return;
    }

    try {
      service.driver(parsed.target);
    } catch (error) {
      await ack(ephemeral(`❌ ${renderText(toRollbackError(error).userText())}`));
      return;
    }
    if (parsed.kind === 'freeze' || parsed.kind === 'unfreeze') {
      const input = { ...parsed, user: command.user_id, channel: command.channel_id, ack, respond, client };
      await (parsed.kind === 'freeze' ? freezeByHand : askToUnfreeze)(input, service, log);
      return;
    }
    const version = parsed.toVersion ? ` to v${parsed.toVersion}` : '';
    await ack(ephemeral(`⏳ Planning a rollback of \`${parsed.target}\`${version}…`));
    await afterAcks();

    const reqLog = log.child({ target: parsed.target, requester: command.user_id });
    try {
      const request = await service.request({
        target: parsed.target,
        toVersion: parsed.toVersion,
        reason: parsed.reason,
        requester: command.user_id,
        origin: { channel: command.channel_id },
      });
      const message = approvalRequestMessage(request, service.approvalFor(request.target));
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

/** Several targets, one plan message with one Approve; refused as a whole (to the requester only) when one cannot go. */
async function requestBatch(
  parsed: Extract<Command, { kind: 'rollback-many' }>,
  asker: { user: string; channel: string; respond: RespondFn; client: WebClient },
  service: RollbackService,
  log: Logger,
): Promise<void> {
  const reqLog = log.child({ batch: parsed.name, requester: asker.user });
  try {
    const planned = await service.batches.request({
      name: parsed.name,
      targets: parsed.targets,
      reason: parsed.reason,
      requester: asker.user,
      origin: { channel: asker.channel },
    });
    if (!planned.ok) {
      await asker.respond(ephemeral(batchRefusedText(planned, parsed.reason)));
      return;
    }
    const { batch, requests } = planned;
    const message = batchRequestMessage(batch, requests, service.batches.scopes(batch));
    try {
      const posted = await postInChannel(asker.client, { channel: asker.channel, ...message, unfurl_links: false });
      await service.batches.recordOrigin(batch.id, { channel: posted.channel, messageTs: posted.ts });
    } catch (error) {
      reqLog.info({ err: error }, 'posting through the response_url instead');
      await asker.respond({ response_type: 'in_channel', ...message });
    }
  } catch (error) {
    await refuse(asker.respond, error, reqLog);
  }
}
