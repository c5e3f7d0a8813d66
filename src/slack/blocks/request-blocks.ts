import type { types } from '@slack/bolt';
import { ALERT_REQUESTER } from '../../core/alerts.js';
import { describeApprovers } from '../../core/approval.js';
import { breakGlassWords } from '../../core/break-glass.js';
import { utcTime } from '../../core/duration.js';
import { postRollbackChecklist } from '../../core/incident-record.js';
import type { BreakGlass, RollbackRequest } from '../../core/request.js';
import type { Plan, VersionInfo } from '../../core/types.js';
import { mention, renderText, SLACK } from '../render-text.js';
import { escapeForSlack } from '../slack-text.js';
import { approvalWords, selfApprovalNote } from './break-glass-text.js';
import { changesBlocks } from './changes-blocks.js';

type KnownBlock = types.KnownBlock;

export const APPROVE_ACTION = 'rollback_approve';
export const CANCEL_ACTION = 'rollback_cancel';
export const FOLLOW_UP_ACTION = 'rollback_follow_up';
export const RECORD_ACTION = 'rollback_record';

const SELECTION_NOTE: Record<Plan['selection'], string> = {
  history: 'Chosen from the activation history',
  inferred: '⚠️ Inferred, not read from history',
  explicit: 'Asked for explicitly',
};

/** A version label as Slack text: labels come from providers (a Helm appVersion), so they are escaped. */
function label(v: VersionInfo): string {
  return escapeForSlack(v.label);
}

function version(v: VersionInfo): string {
  return v.description ? `*${label(v)}* — ${escapeForSlack(v.description)}` : `*${label(v)}*`;
}

function planSections(request: RollbackRequest): KnownBlock[] {
  const { plan } = request;
  const reason = request.reason ? escapeForSlack(request.reason) : '_no reason given_';
  return [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${escapeForSlack(plan.resource)}\n*Live now:* ${version(plan.from)}\n*Restore:* ${version(plan.to)}  📌 pinned`,
      },
    },
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: [SELECTION_NOTE[plan.selection], ...plan.notes.map(escapeForSlack)].join(' · ') },
      ],
    },
    ...changesBlocks(plan, request.id),
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*Requested by* ${mention(request.requester)}\n*Reason:* ${reason}` },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*What will run*\n${plan.steps.map((s, i) => `${i + 1}. ${escapeForSlack(s)}`).join('\n')}`,
      },
    },
  ];
}

/** The approval request, posted where `/rollback` was typed, visible to everyone. */
export function approvalRequestMessage(
  request: RollbackRequest,
  rules: { approvers: readonly string[]; allowSelfApproval: boolean; selfApprovalAfterMs?: number | undefined },
) {
  const { plan } = request;
  const text = `Rollback requested: ${plan.target} ${label(plan.from)} → ${label(plan.to)}, waiting for approval`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `⏪ Rollback requested: ${plan.target}` } },
    ...planSections(request),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Approvers: ${renderText(describeApprovers(rules.approvers))}${selfApprovalNote(request, rules)} · Expires ${utcTime(request.expiresAt)} · \`${request.id}\``,
        },
      ],
    },
    decisionButtons(
      request,
      `Approve rollback to ${plan.to.label}`,
      `${plan.target} goes from ${label(plan.from)} to ${label(plan.to)} at once. A rollback cannot be undone from the same pipeline.`,
    ),
  ];
  return { text, blocks };
}

function decisionButtons(request: RollbackRequest, approveText: string, confirmText: string): KnownBlock {
  return {
    type: 'actions',
    block_id: 'rollback_decision',
    elements: [
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        style: 'primary',
        text: { type: 'plain_text', text: approveText },
        value: request.id,
        confirm: {
          title: { type: 'plain_text', text: 'Sure?' },
          text: { type: 'mrkdwn', text: confirmText },
          confirm: { type: 'plain_text', text: 'Yes, run it' },
          deny: { type: 'plain_text', text: 'Not yet' },
        },
      },
      {
        type: 'button',
        action_id: CANCEL_ACTION,
        style: 'danger',
        text: { type: 'plain_text', text: 'Cancel' },
        value: request.id,
      },
    ],
  };
}

/** A follow-up (migration revert) waiting for its own approval, posted in the rollback's thread. */
export function followUpRequestMessage(
  request: RollbackRequest,
  rules: { approvers: readonly string[]; allowSelfApproval: boolean },
) {
  const followUp = request.followUp;
  const name = escapeForSlack(followUp?.label ?? 'Follow-up');
  const text = `${name} requested for ${request.target}, waiting for approval`;
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${name} requested: ${request.target}*\nWill run: \`${escapeForSlack(followUp?.description ?? '')}\`\n*Requested by* ${mention(request.requester)}`,
      },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Needs its own approval: ${renderText(describeApprovers(rules.approvers))}${rules.allowSelfApproval ? '' : ' (not the requester)'} · Expires ${utcTime(request.expiresAt)} · \`${request.id}\``,
        },
      ],
    },
    decisionButtons(
      request,
      followUp?.label ?? 'Follow-up',
      `This runs \`${escapeForSlack(followUp?.description ?? '')}\` now. It changes data: be sure the rollback needs it.`,
    ),
  ];
  return { text, blocks };
}

/** The button offered under a verified rollback for each follow-up. */
export function followUpButtons(
  requestId: string,
  followUps: ReadonlyArray<{ id: string; label: string; description: string; needsApproval: boolean }>,
): KnownBlock[] {
  if (followUps.length === 0) return [];
  return [
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: followUps
            .map(
              (f) =>
                `*${escapeForSlack(f.label)}*: \`${escapeForSlack(f.description)}\`${f.needsApproval ? ' (needs its own approval)' : ''}`,
            )
            .join('\n'),
        },
      ],
    },
    {
      type: 'actions',
      block_id: 'rollback_follow_ups',
      elements: followUps.map((f) => ({
        type: 'button' as const,
        action_id: FOLLOW_UP_ACTION,
        text: { type: 'plain_text' as const, text: `${f.label}…` },
        value: `${requestId}|${f.id}`,
      })),
    },
  ];
}

/** The request after a decision: same facts, no buttons, who decided and when. */
export function decidedRequestMessage(request: RollbackRequest, decision: string) {
  const { plan } = request;
  const text = `Rollback of ${plan.target} ${label(plan.from)} → ${label(plan.to)}: ${decision}`;
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        // A proposal keeps its mark once decided: who asked (alerts) matters in the record of the channel.
        text:
          request.requester === ALERT_REQUESTER
            ? `🔔 Rollback (proposed by alerts): ${plan.target}`
            : `⏪ Rollback: ${plan.target}`,
      },
    },
    ...planSections(request),
    { type: 'section', text: { type: 'mrkdwn', text: decision } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `\`${request.id}\`` }] },
  ];
  return { text, blocks };
}

export function approvedDecision(request: RollbackRequest, thread: { channel: string } | undefined): string {
  const where = thread ? ` Follow it in <#${thread.channel}>.` : '';
  const glass = request.breakGlass ? `, ${breakGlassWords(request.breakGlass)}` : '';
  return `✅ *Approved* by ${mention(request.approver)} at ${utcTime(request.approvedAt ?? Date.now())}${glass}: rolling back now.${where}`;
}

export function cancelledDecision(request: RollbackRequest): string {
  return `✖️ *Cancelled* by ${mention(request.closedBy)} at ${utcTime(request.closedAt ?? Date.now())}. Nothing was run.`;
}

export function expiredDecision(request: RollbackRequest): string {
  return `⌛ *Expired* at ${utcTime(request.expiresAt)} without approval. Nothing was run. Run \`/rollback ${request.target}\` for a fresh plan.`;
}

/** The notice in the incident channel; its thread carries every step. Words from the runbook. */
export interface NoticeFacts {
  plan: Plan;
  requester: string;
  approver?: string | undefined;
  breakGlass?: BreakGlass | undefined;
  reason: string;
}

export function rollingBackNotice(request: NoticeFacts, status?: string) {
  const { plan } = request;
  const text = `Rolling back ${plan.target} to ${label(plan.to)}`;
  const reason = request.reason ? ` · ${escapeForSlack(request.reason)}` : '';
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${text}*${status ? `  ${status}` : ''}` } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `from ${label(plan.from)} · ${escapeForSlack(plan.resource)} · requested by ${mention(request.requester)}, ${approvalWords(request)}${reason}`,
        },
      ],
    },
  ];
  return { text, blocks };
}

/** The runbooks' post-rollback checklist, and the buttons that help with it. */
export function afterRollbackMessage(requestId: string, plan: Plan, endedAt: number) {
  const items = postRollbackChecklist(plan, endedAt, SLACK);
  const text = `📋 *After the rollback* (runbooks)\n${items.map((item) => `☐ ${item}`).join('\n')}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text } },
    {
      type: 'actions',
      block_id: 'rollback_after',
      elements: [
        {
          type: 'button',
          action_id: RECORD_ACTION,
          text: { type: 'plain_text', text: 'Incident record' },
          value: requestId,
        },
      ],
    },
  ];
  return { text, blocks };
}
