import type { AckFn, RespondArguments, RespondFn, types } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { RollbackService } from '../../core/rollback-service.js';
import type { Logger } from '../../log.js';
import { frozenByHandMessage, unfreezeRequestMessage } from '../blocks/freeze-blocks.js';
import { postInChannel } from '../post-to-channel.js';
import { ephemeral, refuse } from './answer-requester.js';

/** `/rollback freeze|unfreeze <target> <reason>`, the target known to exist; acknowledged here, before any I/O. */
export interface FreezeCommand {
  target: string;
  reason: string;
  user: string;
  channel: string;
  ack: AckFn<string | RespondArguments>;
  respond: RespondFn;
  client: WebClient;
}

/** The deploy gate holds the target at once; the channel hears it, a refusal only the requester. */
export async function freezeByHand(input: FreezeCommand, service: RollbackService, log: Logger): Promise<void> {
  await input.ack(ephemeral(`⏳ Freezing \`${input.target}\`…`));
  const reqLog = log.child({ target: input.target, requester: input.user });
  try {
    const freeze = await service.freezes.freezeByHand({ target: input.target, reason: input.reason, by: input.user });
    await announce(input, frozenByHandMessage(freeze, service.freezes.liftText(freeze)), reqLog);
  } catch (error) {
    await refuse(input.respond, error, reqLog);
  }
}

/** Asks for the target's freeze to end: a request with Approve and Cancel, visible to the channel. */
export async function askToUnfreeze(input: FreezeCommand, service: RollbackService, log: Logger): Promise<void> {
  await input.ack(ephemeral(`⏳ Asking to unfreeze \`${input.target}\`…`));
  const reqLog = log.child({ target: input.target, requester: input.user });
  try {
    const { request, freeze } = await service.freezes.requestUnfreeze({
      target: input.target,
      reason: input.reason,
      requester: input.user,
      origin: { channel: input.channel },
    });
    const message = unfreezeRequestMessage(
      request,
      service.freezes.describe(freeze),
      service.approvalFor(request.target),
    );
    const posted = await announce(input, message, reqLog.child({ requestId: request.id }));
    // Without it, a click from any message in the channel is taken as coming from the request.
    if (posted)
      await service.freezes
        .recordUnfreezeOrigin(request.id, posted)
        .catch((err: unknown) => reqLog.warn({ err, requestId: request.id }, 'could not note where the request is'));
  } catch (error) {
    await refuse(input.respond, error, reqLog);
  }
}

/**
 * Posts in the channel for everyone; where the bot cannot post (a private channel or a DM it is not in), the
 * command's response_url still reaches it. Returns where the bot posted, if it did; never throws.
 */
async function announce(
  input: FreezeCommand,
  message: { text: string; blocks: types.KnownBlock[] },
  log: Logger,
): Promise<{ channel: string; messageTs: string } | undefined> {
  try {
    const posted = await postInChannel(input.client, { channel: input.channel, ...message, unfurl_links: false });
    return { channel: posted.channel, messageTs: posted.ts };
  } catch (error) {
    log.info({ err: error }, 'posting through the response_url instead');
    await input
      .respond({ response_type: 'in_channel', ...message })
      .catch((err: unknown) => log.warn({ err }, 'could not post in the channel, nor through the response_url'));
    return undefined;
  }
}
