import type { types } from '@slack/bolt';
import { describeApprovers } from '../../core/approval.js';
import { utcTime } from '../../core/duration.js';
import type { Freeze, LiftedFreeze, UnfreezeRequest } from '../../core/freeze.js';
import type { FrozenTarget } from '../../core/freeze-service.js';
import type { Text } from '../../core/text.js';
import { mention, renderText } from '../render-text.js';
import { escapeForSlack } from '../slack-text.js';

type KnownBlock = types.KnownBlock;

export const UNFREEZE_APPROVE_ACTION = 'unfreeze_approve';
export const UNFREEZE_CANCEL_ACTION = 'unfreeze_cancel';

function utcDateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function section(mrkdwn: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: mrkdwn } };
}

function context(mrkdwn: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn }] };
}

/** A freeze by hand, announced in the channel: `lift` is what ends it (FreezeService.liftText). */
export function frozenByHandMessage(freeze: Freeze, lift: Text) {
  const text = `🔒 *${freeze.target}* frozen by ${mention(freeze.by)}: ${escapeForSlack(freeze.reason)}. The deploy gate refuses every deploy until ${renderText(lift)}.`;
  return { text, blocks: [section(text), context(`\`${freeze.id}\` · \`/rollback status\` shows every freeze`)] };
}

function askedSection(request: UnfreezeRequest): KnownBlock {
  return section(`*Requested by* ${mention(request.requester)}\n*Reason:* ${escapeForSlack(request.reason)}`);
}

/** The unfreeze request, posted where `/rollback unfreeze` was typed; `frozen` is FreezeService.describe. */
export function unfreezeRequestMessage(
  request: UnfreezeRequest,
  frozen: Text,
  rules: { approvers: readonly string[]; allowSelfApproval: boolean },
) {
  const text = `Unfreeze requested: ${request.target}, waiting for approval`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `🔓 Unfreeze requested: ${request.target}` } },
    section(
      `*${request.target}* is ${renderText(frozen)}.\nApproved, the deploy gate lets every deploy of ${request.target} through again.`,
    ),
    askedSection(request),
    context(
      `Approvers: ${renderText(describeApprovers(rules.approvers))}${rules.allowSelfApproval ? '' : ' (not the requester)'} · Expires ${utcTime(request.expiresAt)} · \`${request.id}\``,
    ),
    {
      type: 'actions',
      block_id: 'unfreeze_decision',
      elements: [
        {
          type: 'button',
          action_id: UNFREEZE_APPROVE_ACTION,
          style: 'primary',
          text: { type: 'plain_text', text: `Approve unfreeze of ${request.target}` },
          value: request.id,
          confirm: {
            title: { type: 'plain_text', text: 'Sure?' },
            text: {
              type: 'mrkdwn',
              text: `The deploy gate stops holding ${request.target}: any deploy goes out, even one that brings back what a rollback took out.`,
            },
            confirm: { type: 'plain_text', text: 'Yes, unfreeze' },
            deny: { type: 'plain_text', text: 'Not yet' },
          },
        },
        {
          type: 'button',
          action_id: UNFREEZE_CANCEL_ACTION,
          style: 'danger',
          text: { type: 'plain_text', text: 'Cancel' },
          value: request.id,
        },
      ],
    },
  ];
  return { text, blocks };
}

/** The unfreeze request once decided: who asked and why, the decision, no buttons. */
export function decidedUnfreezeMessage(request: UnfreezeRequest, decision: string) {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `🔓 Unfreeze: ${request.target}` } },
    askedSection(request),
    section(decision),
    context(`\`${request.id}\``),
  ];
  return { text: `Unfreeze of ${request.target}: ${decision}`, blocks };
}

export function unfrozenDecision(request: UnfreezeRequest, lifted: LiftedFreeze): string {
  return `🔓 ${request.target} unfrozen: approved by ${mention(request.approver)}, asked for by ${mention(request.requester)}: ${escapeForSlack(request.reason)}\nThe freeze (\`${lifted.id}\`) ended at ${utcTime(lifted.lifted.at)}: the deploy gate lets deploys of ${request.target} through again.`;
}

/** A decision that lifted nothing: cancelled, expired, or closed because its freeze had ended. */
export function closedDecision(request: UnfreezeRequest): string {
  const again = `\`/rollback unfreeze ${request.target} <reason>\``;
  if (request.state === 'expired')
    return `⌛ *Expired* at ${utcTime(request.expiresAt)} without approval. ${request.target} stays frozen; ask again: ${again}.`;
  if (request.closedBy === 'freeze-ended')
    return `✖️ *Closed* at ${utcTime(request.closedAt ?? Date.now())}: the freeze it was for had already ended or been replaced. Nothing was lifted; \`/rollback status\` shows whether ${request.target} is frozen.`;
  return `✖️ *Cancelled* by ${mention(request.closedBy)} at ${utcTime(request.closedAt ?? Date.now())}. ${request.target} stays frozen.`;
}

/** Under a target in `/rollback status`: since when, by which request, and what lifts it. */
export function frozenLine({ freeze, lift }: FrozenTarget): string {
  const by =
    freeze.cause === 'manual'
      ? `by hand by ${mention(freeze.by)} (\`${freeze.id}\`): ${escapeForSlack(freeze.reason)}`
      : `by \`${freeze.id}\``;
  return `   🔒 frozen since ${utcTime(freeze.since)} ${by} — lifts with: ${renderText(lift)}`;
}

const LIFT_ICON: Record<LiftedFreeze['lifted']['how'], string> = {
  unfreeze: '🔓',
  'revert-deployed': '🔓',
  superseded: '🔁',
};

/** How a freeze ended, before why (the lift's own words say who approved, or which deploy went live). */
const HOW_IT_ENDED: Record<LiftedFreeze['lifted']['how'], (requestId: string | undefined) => string> = {
  unfreeze: (id) => (id ? `ended by \`${id}\`` : 'ended by an unfreeze'),
  'revert-deployed': () => 'ended by a deploy',
  superseded: () => 'superseded',
};

/** The freezes that ended lately, for `/rollback history`: when, which, how and why. */
export function endedFreezesText(freezes: readonly LiftedFreeze[], target: string | undefined): string {
  const lines = freezes.map((freeze) => {
    const { lifted } = freeze;
    const which =
      freeze.cause === 'manual'
        ? `freeze by hand \`${freeze.id}\` by ${mention(freeze.by)}`
        : `freeze after rollback \`${freeze.id}\``;
    const how = HOW_IT_ENDED[lifted.how](lifted.requestId);
    return `${LIFT_ICON[lifted.how]} ${utcDateTime(lifted.at)} \`${freeze.target}\` ${which} (since ${utcDateTime(freeze.since)}) — ${how}: ${renderText(lifted.why)}`;
  });
  return [`*Last freezes ended${target ? ` of \`${target}\`` : ''}*`, ...lines].join('\n');
}
