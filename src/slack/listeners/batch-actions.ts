import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { BatchState } from '../../core/batch-service.js';
import { breakGlassWords } from '../../core/break-glass.js';
import { utcTime } from '../../core/duration.js';
import { isRollbackError, type RollbackError, toRollbackError } from '../../core/errors.js';
import type { Announcement } from '../../core/ports/notifier.js';
import type { RollbackService } from '../../core/rollback-service.js';
import type { Logger } from '../../log.js';
import {
  BATCH_APPROVE_ACTION,
  BATCH_CANCEL_ACTION,
  batchRequestMessage,
  decidedBatchMessage,
} from '../blocks/batch-blocks.js';
import { batchBreakGlassModal } from '../blocks/break-glass-modal.js';
import { noticeNotifier } from '../notice-notifier.js';
import { mention, renderText } from '../render-text.js';
import { registerBatchBreakGlassView } from './break-glass.js';
import { type Click, clickOf, rewriteMessage, tellClicker } from './click.js';
import { type DecisionOptions, decisionSettings, warnIfNobodyPicksUp } from './decision-actions.js';

/** Approve and Cancel on a multi-target request: one click for every target in it. */
export function registerBatchActions(
  app: App,
  service: RollbackService,
  log: Logger,
  options: DecisionOptions = {},
): void {
  const { pickupWarningMs, afterAcks, slot } = decisionSettings(options);

  app.action<BlockAction<ButtonAction>>(BATCH_APPROVE_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    const click = clickOf(body, action, respond, client);
    await approveBatch(click, service, log.child({ batch: click.requestId }), pickupWarningMs, slot);
  });
  // A break-glass approval, confirmed in its modal, goes on as an approver's click does.
  registerBatchBreakGlassView(
    app,
    service,
    log,
    (click, state) =>
      approveBatch(click, service, log.child({ batch: state.batch.id }), pickupWarningMs, slot, async () => state),
    afterAcks,
  );

  app.action<BlockAction<ButtonAction>>(BATCH_CANCEL_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await afterAcks();
    const click = clickOf(body, action, respond, client);
    const batchLog = log.child({ batch: click.requestId });
    try {
      const { batch, requests } = await service.batches.cancel(click.requestId, click.user, click.from);
      const decision = `✖️ *Cancelled* by ${mention(click.user)} at ${utcTime(Date.now())}. Nothing was run.`;
      await rewriteMessage(click, batch.origin, decidedBatchMessage(batch, requests, decision), batchLog);
    } catch (error) {
      await refuse(click, error, service, batchLog);
    }
  });
}

async function approveBatch(
  click: Click,
  service: RollbackService,
  batchLog: Logger,
  pickupWarningMs: number,
  slot: <T>(work: () => Promise<T>) => Promise<T>,
  decide: () => Promise<BatchState> = () => service.batches.approve(click.requestId, click.user, click.from),
): Promise<void> {
  type Step =
    | { kind: 'refused'; error: unknown }
    | { kind: 'launchFailed'; state: BatchState; error: unknown }
    | { kind: 'launched'; state: BatchState; announcement: Announcement };
  const step = await slot(async (): Promise<Step> => {
    let state: BatchState;
    try {
      state = await decide();
    } catch (error) {
      return { kind: 'refused', error };
    }
    try {
      const notifier = noticeNotifier(click.client, service.rules.incidentChannel, batchLog);
      return { kind: 'launched', state, announcement: await service.batches.launch(state, notifier) };
    } catch (error) {
      return { kind: 'launchFailed', state, error };
    }
  });
  if (step.kind === 'refused') {
    await refuse(click, step.error, service, batchLog);
    return;
  }
  const { batch } = step.state;
  if (step.kind === 'launchFailed') {
    await tellClicker(click, `❌ ${renderText(toRollbackError(step.error).userText())}`, batchLog);
    const reopened = await service.batches.find(batch.id).catch(() => undefined);
    if (reopened?.requests.every((r) => r.state === 'pending'))
      await rewriteMessage(click, batch.origin, offer(service, reopened), batchLog);
    return;
  }
  const { thread, problem } = step.announcement;
  const first = step.state.requests[0];
  if (thread && first)
    warnIfNobodyPicksUp(click.client, service, first.id, thread, pickupWarningMs, batchLog, async () => {
      const reopened = await service.batches.find(batch.id).catch(() => undefined);
      if (reopened) await rewriteMessage(click, batch.origin, offer(service, reopened), batchLog);
    });
  const where = thread?.root === 'notice' ? ` Follow them in <#${thread.channel}>.` : '';
  const glass = first?.breakGlass ? `, ${breakGlassWords(first.breakGlass)}` : '';
  let decision = `✅ *Approved* by ${mention(click.user)} at ${utcTime(first?.approvedAt ?? Date.now())}${glass}: rolling back all ${step.state.requests.length} now.${where}`;
  if (problem) {
    const fallback = thread
      ? "Progress is in this message's thread."
      : "Progress goes to the bot's log only; `/rollback status` shows how it ends.";
    decision += `\n⚠️ ${renderText(problem.userText())} ${fallback}`;
  }
  await rewriteMessage(click, batch.origin, decidedBatchMessage(batch, step.state.requests, decision), batchLog);
}

function offer(service: RollbackService, state: BatchState) {
  return batchRequestMessage(state.batch, state.requests, service.batches.scopes(state.batch));
}

async function refuse(click: Click, error: unknown, service: RollbackService, log: Logger): Promise<void> {
  const coded = toRollbackError(error);
  if (coded.code === 'BREAK_GLASS_UNCONFIRMED' && (await openBatchBreakGlassModal(click, coded, service, log))) return;
  if (!isRollbackError(error)) log.error({ err: error }, 'multi-target decision failed');
  await tellClicker(click, `❌ ${renderText(coded.userText())}`, log);
}

/** The requester may approve their own request after selfApprovalAfter: the modal asks them to type its name. */
async function openBatchBreakGlassModal(
  click: Click,
  error: RollbackError,
  service: RollbackService,
  log: Logger,
): Promise<boolean> {
  if (!click.triggerId) return false;
  const afterMs = Number(error.details.afterMs);
  const approvers = Array.isArray(error.details.approvers) ? error.details.approvers.map(String) : [];
  try {
    const { batch, requests } = await service.batches.find(click.requestId, click.from);
    await click.client.views.open({
      trigger_id: click.triggerId,
      view: batchBreakGlassModal(batch, requests, { afterMs, approvers }, click.from),
    });
    return true;
  } catch (err) {
    log.warn({ err, batch: click.requestId }, 'could not open the break-glass confirmation');
    return false;
  }
}
