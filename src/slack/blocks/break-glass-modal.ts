import type { types } from '@slack/bolt';
import { describeApprovers } from '../../core/approval.js';
import type { RollbackBatch } from '../../core/batch.js';
import { breakGlassWords } from '../../core/break-glass.js';
import type { RollbackError } from '../../core/errors.js';
import type { RequestOrigin, RollbackRequest } from '../../core/request.js';
import { renderText } from '../render-text.js';
import { escapeForSlack } from '../slack-text.js';

type ModalView = types.ModalView;

/** The modal's callback_id: its submission comes back to the listener registered for it. */
export const BREAK_GLASS_VIEW = 'rollback_break_glass';
/** The input where the requester types the target's name (block_id, action_id). */
export const BREAK_GLASS_BLOCK = 'break_glass_target';
export const BREAK_GLASS_INPUT = 'target_name';

/** What the modal carries back in private_metadata: the request, and the message its Approve was clicked in. */
export interface BreakGlassMetadata {
  requestId: string;
  channel: string;
  messageTs?: string | undefined;
}

const TITLE = { type: 'plain_text', text: 'Break-glass approval' } as const;

/** The multi-target request's modal: its submission comes back to the batch's listener. */
export const BATCH_BREAK_GLASS_VIEW = 'rollback_batch_break_glass';

/**
 * The deliberate confirmation of a break-glass self-approval: what will run, who will be told, and an input in
 * which the requester types the target's name.
 */
export function breakGlassModal(
  request: RollbackRequest,
  rules: { approvers: readonly string[]; selfApprovalAfterMs?: number | undefined },
  clickedFrom: RequestOrigin,
): ModalView {
  const { plan } = request;
  return confirmationModal({
    callbackId: BREAK_GLASS_VIEW,
    id: request.id,
    clickedFrom,
    name: plan.target,
    afterMs: rules.selfApprovalAfterMs ?? 0,
    approvers: rules.approvers,
    what: `${escapeForSlack(plan.resource)}\n*Live now:* ${escapeForSlack(plan.from.label)}  →  *Restore:* ${escapeForSlack(plan.to.label)}\n*What will run*\n${plan.steps.map((s, i) => `${i + 1}. ${escapeForSlack(s)}`).join('\n')}`,
  });
}

/** The same confirmation for a multi-target request: the requester types its name (the group's, or "cdn + api"). */
export function batchBreakGlassModal(
  batch: Pick<RollbackBatch, 'id' | 'name'>,
  requests: ReadonlyArray<Pick<RollbackRequest, 'target' | 'plan'>>,
  breakGlass: { afterMs: number; approvers: readonly string[] },
  clickedFrom: RequestOrigin,
): ModalView {
  const lines = requests.map(
    (r) => `*${r.target}*: ${escapeForSlack(r.plan.from.label)} → *${escapeForSlack(r.plan.to.label)}*`,
  );
  const shown = lines.slice(0, 20).join('\n');
  return confirmationModal({
    callbackId: BATCH_BREAK_GLASS_VIEW,
    id: batch.id,
    clickedFrom,
    name: batch.name,
    afterMs: breakGlass.afterMs,
    approvers: breakGlass.approvers,
    what: `*All ${requests.length} at once*\n${shown}${lines.length > 20 ? `\n…and ${lines.length - 20} more` : ''}`,
  });
}

function confirmationModal(input: {
  callbackId: string;
  id: string;
  clickedFrom: RequestOrigin;
  name: string;
  afterMs: number;
  approvers: readonly string[];
  what: string;
}): ModalView {
  const { clickedFrom, name } = input;
  const approvers = renderText(describeApprovers(input.approvers));
  const metadata: BreakGlassMetadata = {
    requestId: input.id,
    channel: clickedFrom.channel,
    ...(clickedFrom.messageTs ? { messageTs: clickedFrom.messageTs } : {}),
  };
  return {
    type: 'modal',
    callback_id: input.callbackId,
    private_metadata: JSON.stringify(metadata),
    title: TITLE,
    submit: { type: 'plain_text', text: 'Roll back now' },
    close: { type: 'plain_text', text: 'Not yet' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `🚨 *No approver has acted on your rollback of ${escapeForSlack(name)}.* You may approve it yourself. The incident channel will say it was *${breakGlassWords({ afterMs: input.afterMs })}* and mention the approvers: ${approvers}.`,
        },
      },
      { type: 'section', text: { type: 'mrkdwn', text: input.what.slice(0, 2_900) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: 'A rollback cannot be undone from the same pipeline.' }],
      },
      {
        type: 'input',
        block_id: BREAK_GLASS_BLOCK,
        label: { type: 'plain_text', text: `Type ${name} to confirm`.slice(0, 2_000) },
        element: {
          type: 'plain_text_input',
          action_id: BREAK_GLASS_INPUT,
          // Target names are at most 63 characters; the refusal of a wrong name quotes what was typed.
          max_length: Math.min(3_000, Math.max(100, name.length + 20)),
          placeholder: { type: 'plain_text', text: name.slice(0, 150) },
        },
      },
    ],
  };
}

/** The modal after a refusal other than a wrong name (the request expired, was approved meanwhile…). */
export function breakGlassRefusedModal(error: RollbackError): ModalView {
  return {
    type: 'modal',
    title: TITLE,
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `❌ ${renderText(error.userText())}` } }],
  };
}
