import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { isRollbackError, toRollbackError } from '../../core/errors.js';
import type { UnfreezeRequest } from '../../core/freeze.js';
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
import { type Click, clickOf, rewriteMessage, tellClicker } from './click.js';

/**
 * Approve and Cancel on an unfreeze request. Core checks the click (its message, the approver, the expiry, a
 * decision already made) and lifts the freeze; a refusal is shown only to the clicker, a decision rewrites
 * the request for everyone.
 */
export function registerFreezeActions(app: App, service: RollbackService, log: Logger): void {
  app.action<BlockAction<ButtonAction>>(UNFREEZE_APPROVE_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    const click = clickOf(body, action, respond, client);
    const clickLog = log.child({ requestId: click.requestId, user: click.user });
    try {
      const { request, lifted } = await service.freezes.approveUnfreeze(click.requestId, click.user, click.from);
      await rewrite(click, request, decidedUnfreezeMessage(request, unfrozenDecision(request, lifted)), clickLog);
    } catch (error) {
      await refuse(click, error, service, clickLog);
    }
  });

  app.action<BlockAction<ButtonAction>>(UNFREEZE_CANCEL_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    const click = clickOf(body, action, respond, client);
    const clickLog = log.child({ requestId: click.requestId, user: click.user });
    try {
      const request = await service.freezes.cancelUnfreeze(click.requestId, click.user, click.from);
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
  await tellClicker(click, `❌ ${renderText(coded.userText())}`, log);
  if (coded.code !== 'REQUEST_EXPIRED' && coded.code !== 'NOT_FROZEN') return;
  const request = await service.freezes.findUnfreeze(click.requestId, click.from).catch(() => undefined);
  if (request && (request.state === 'expired' || request.state === 'cancelled'))
    await rewrite(click, request, decidedUnfreezeMessage(request, closedDecision(request)), log);
}

/** Rewrites the unfreeze request message for everyone. */
function rewrite(click: Click, request: UnfreezeRequest, message: { text: string; blocks: unknown[] }, log: Logger) {
  return rewriteMessage(click, request.origin, message, log);
}
