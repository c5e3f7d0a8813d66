import type { App, BlockAction, ButtonAction, RespondFn, types } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { isRollbackError, toRollbackError } from '../../core/errors.js';
import type { UnfreezeRequest } from '../../core/freeze.js';
import type { RequestOrigin } from '../../core/request.js';
import type { RollbackService } from '../../core/rollback-service.js';
import type { Logger } from '../../log.js';
import {
  closedDecision,
  decidedUnfreezeMessage,
  UNFREEZE_APPROVE_ACTION,
  UNFREEZE_CANCEL_ACTION,
  unfrozenDecision,
} from '../blocks/freeze-blocks.js';
import { renderText } from '../render-text.js';

interface Click {
  unfreezeId: string;
  user: string;
  /** The message the button was in: core refuses a click from any other message than the request's. */
  from: RequestOrigin;
  respond: RespondFn;
  client: WebClient;
}

function clickOf(body: BlockAction, action: ButtonAction, respond: RespondFn, client: WebClient): Click {
  return {
    unfreezeId: action.value ?? '',
    user: body.user.id,
    from: {
      channel: body.channel?.id ?? body.container?.channel_id ?? '',
      messageTs: body.message?.ts ?? body.container?.message_ts,
    },
    respond,
    client,
  };
}

/**
 * Approve and Cancel on an unfreeze request. Core checks the click (its message, the approver, the expiry, a
 * decision already made) and lifts the freeze; a refusal is shown only to the clicker, a decision rewrites
 * the request for everyone.
 */
export function registerFreezeActions(app: App, service: RollbackService, log: Logger): void {
  app.action<BlockAction<ButtonAction>>(UNFREEZE_APPROVE_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    const click = clickOf(body, action, respond, client);
    const clickLog = log.child({ requestId: click.unfreezeId, user: click.user });
    try {
      const { request, lifted } = await service.freezes.approveUnfreeze(click.unfreezeId, click.user, click.from);
      await rewrite(click, request, decidedUnfreezeMessage(request, unfrozenDecision(request, lifted)), clickLog);
    } catch (error) {
      await refuse(click, error, service, clickLog);
    }
  });

  app.action<BlockAction<ButtonAction>>(UNFREEZE_CANCEL_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    const click = clickOf(body, action, respond, client);
    const clickLog = log.child({ requestId: click.unfreezeId, user: click.user });
    try {
      const request = await service.freezes.cancelUnfreeze(click.unfreezeId, click.user, click.from);
      await rewrite(click, request, decidedUnfreezeMessage(request, closedDecision(request)), clickLog);
    } catch (error) {
      await refuse(click, error, service, clickLog);
    }
  });
}

/** Only the clicker hears why; a request that expired or whose freeze ended is rewritten for everyone. */
async function refuse(click: Click, error: unknown, service: RollbackService, log: Logger): Promise<void> {
  const coded = toRollbackError(error);
  if (coded.code === 'QUEUE_UNAVAILABLE') log.warn({ err: error }, 'unfreeze decision: Redis is not answering');
  else if (!isRollbackError(error)) log.error({ err: error }, 'unfreeze decision failed');
  await click
    .respond({ response_type: 'ephemeral', replace_original: false, text: `❌ ${renderText(coded.userText())}` })
    .catch((err: unknown) => log.warn({ err }, 'could not answer the clicker'));
  if (coded.code !== 'REQUEST_EXPIRED' && coded.code !== 'NOT_FROZEN') return;
  const request = await service.freezes.findUnfreeze(click.unfreezeId, click.from).catch(() => undefined);
  if (request && (request.state === 'expired' || request.state === 'cancelled'))
    await rewrite(click, request, decidedUnfreezeMessage(request, closedDecision(request)), log);
}

/** Rewrites the request message: by the Web API when the bot posted it, else through the response_url. */
async function rewrite(
  click: Click,
  request: UnfreezeRequest,
  message: { text: string; blocks: types.KnownBlock[] },
  log: Logger,
): Promise<void> {
  try {
    if (request.origin.messageTs)
      await click.client.chat.update({ channel: request.origin.channel, ts: request.origin.messageTs, ...message });
    else await click.respond({ replace_original: true, ...message });
  } catch (err) {
    log.warn({ err }, 'could not update the unfreeze request message');
  }
}
