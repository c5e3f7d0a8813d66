import type { types } from '@slack/bolt';
import { type ApprovalScope, describeApprovers } from '../../core/approval.js';
import type { BatchOutcome, RollbackBatch } from '../../core/batch.js';
import { type BatchPlan, batchRefusalWords } from '../../core/batch-service.js';
import { formatDuration, utcTime } from '../../core/duration.js';
import type { BreakGlass, RollbackRequest } from '../../core/request.js';
import { mention, renderText } from '../render-text.js';
import { escapeForSlack } from '../slack-text.js';
import { approvalWords } from './break-glass-text.js';
import { changesBlocks } from './changes-blocks.js';

type KnownBlock = types.KnownBlock;

export const BATCH_APPROVE_ACTION = 'rollback_batch_approve';
export const BATCH_CANCEL_ACTION = 'rollback_batch_cancel';

/** Up to this many targets, each gets its own section with notes and steps; beyond, one line each. */
const DETAILED_TARGETS = 10;
/** Slack refuses a section's text over 3 000 characters. */
const SECTION_LIMIT = 2_900;

/** "cdn: v42 → v41" for one member, escaped. */
function versionsLine(request: Pick<RollbackRequest, 'target' | 'plan'>): string {
  const { plan } = request;
  return `*${request.target}*: ${escapeForSlack(plan.from.label)} → *${escapeForSlack(plan.to.label)}* 📌`;
}

function detailedMember(request: RollbackRequest): KnownBlock {
  const { plan } = request;
  const notes = plan.notes.length > 0 ? `\n_${plan.notes.map(escapeForSlack).join(' · ')}_` : '';
  const steps = plan.steps.map((s, i) => `${i + 1}. ${escapeForSlack(s)}`).join('\n');
  const body = `${versionsLine(request)} · ${escapeForSlack(plan.resource)}${notes}\n${steps}`;
  return { type: 'section', text: { type: 'mrkdwn', text: body.slice(0, SECTION_LIMIT) } };
}

/** Lines packed into as few sections as Slack's limits allow. */
function packed(lines: readonly string[]): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let current = '';
  for (const line of lines) {
    if (current && current.length + line.length + 1 > SECTION_LIMIT) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
  return blocks;
}

function memberBlocks(requests: readonly RollbackRequest[], changes: boolean): KnownBlock[] {
  if (requests.length <= DETAILED_TARGETS)
    return requests.flatMap((r) => [detailedMember(r), ...(changes ? changesBlocks(r.plan, r.id) : [])]);
  return packed(requests.map(versionsLine));
}

function requesterSection(batch: RollbackBatch): KnownBlock {
  const reason = batch.reason ? escapeForSlack(batch.reason) : '_no reason given_';
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: `*Requested by* ${mention(batch.requester)}\n*Reason:* ${reason}` },
  };
}

/** Who may approve: one list when every scope names the same, else each target's (and the group's). */
function approversText(scopes: readonly ApprovalScope[]): string {
  const lists = new Map<string, ApprovalScope[]>();
  for (const scope of scopes) {
    const key = [...scope.approvers].sort().join(',');
    lists.set(key, [...(lists.get(key) ?? []), scope]);
  }
  const self = scopes.every((s) => s.allowSelfApproval) ? '' : ' (not the requester)';
  if (lists.size === 1) return `Approvers: ${renderText(describeApprovers(scopes[0]?.approvers ?? []))}${self}`;
  const each = [...lists.values()]
    .map(
      (group) => `${group.map((s) => s.name).join(', ')}: ${renderText(describeApprovers(group[0]?.approvers ?? []))}`,
    )
    .join('; ');
  return `Needs one approver allowed on every target${self}. ${each}`;
}

/** One plan message for every target, with one Approve for all. */
export function batchRequestMessage(
  batch: RollbackBatch,
  requests: readonly RollbackRequest[],
  scopes: readonly ApprovalScope[],
) {
  const versions = requests.map((r) => `${r.target} to ${r.plan.to.label}`).join(', ');
  const text = `Rollback requested: ${batch.name} (${versions}), waiting for approval`;
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: `⏪ Rollback requested: ${batch.name} (${requests.length} targets)`.slice(0, 150),
      },
    },
    ...memberBlocks(requests, true),
    requesterSection(batch),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `${approversText(scopes)} · One approval for all ${requests.length}; each is locked, verified, recorded and frozen on its own · Expires ${utcTime(batch.expiresAt)} · \`${batch.id}\``,
        },
      ],
    },
    {
      type: 'actions',
      block_id: 'rollback_batch_decision',
      elements: [
        {
          type: 'button',
          action_id: BATCH_APPROVE_ACTION,
          style: 'primary',
          text: { type: 'plain_text', text: `Approve all ${requests.length} rollbacks` },
          value: batch.id,
          confirm: {
            title: { type: 'plain_text', text: 'Sure?' },
            text: {
              type: 'mrkdwn',
              text: `${escapeForSlack(versions).slice(0, 250)}: all at once. A rollback cannot be undone from the same pipeline.`,
            },
            confirm: { type: 'plain_text', text: 'Yes, run them' },
            deny: { type: 'plain_text', text: 'Not yet' },
          },
        },
        {
          type: 'button',
          action_id: BATCH_CANCEL_ACTION,
          style: 'danger',
          text: { type: 'plain_text', text: 'Cancel' },
          value: batch.id,
        },
      ],
    },
  ];
  return { text, blocks };
}

/** The batch message after a decision: same facts, no buttons. */
export function decidedBatchMessage(batch: RollbackBatch, requests: readonly RollbackRequest[], decision: string) {
  const text = `Rollback of ${batch.name}: ${decision}`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `⏪ Rollback: ${batch.name}`.slice(0, 150) } },
    ...memberBlocks(requests, false),
    requesterSection(batch),
    { type: 'section', text: { type: 'mrkdwn', text: decision } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `\`${batch.id}\`` }] },
  ];
  return { text, blocks };
}

/**
 * Asking for several targets was refused as a whole: what each target would restore, why the refused ones
 * cannot be rolled back now, and the command without them.
 */
export function batchRefusedText(refusal: Extract<BatchPlan, { ok: false }>, reason: string): string {
  const { planned, refused } = refusal;
  const words = batchRefusalWords(refusal);
  const lines = [
    `❌ *${escapeForSlack(words.subject)}* ${words.why}`,
    ...planned.map((r) => `✅ ${versionsLine(r)}`),
    ...refused.map((r) => `${r.target ? `🚫 *${r.target}*: ` : '🚫 '}${renderText(r.error.userText())}`),
  ];
  if (words.askAgainWith)
    lines.push(
      `Ask again without them: \`/rollback ${words.askAgainWith.join(' ')}${reason ? ` ${escapeForSlack(reason)}` : ''}\``,
    );
  return lines.join('\n');
}

/** The notice in the incident channel: "Rolling back checkout: cdn to v41, api to v1.0.0 (revision 1)". */
export function rollingBackBatchNotice(
  batch: Pick<RollbackBatch, 'name' | 'reason' | 'requester'>,
  requests: ReadonlyArray<{
    target: string;
    plan: Pick<RollbackRequest['plan'], 'to'>;
    approver?: string | undefined;
    breakGlass?: BreakGlass | undefined;
  }>,
  status?: string,
) {
  const versions = requests.map((r) => `${r.target} to ${r.plan.to.label}`).join(', ');
  const text = `Rolling back ${batch.name}: ${versions}`;
  const reason = batch.reason ? ` · ${escapeForSlack(batch.reason)}` : '';
  const shown = escapeForSlack(text);
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*${shown.slice(0, SECTION_LIMIT - 100)}*${status ? `  ${status}` : ''}` },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `${requests.length} targets, one thread · requested by ${mention(batch.requester)}, ${approvalWords(requests[0] ?? {})}${reason}`,
        },
      ],
    },
  ];
  return { text, blocks };
}

/** "2 of 2 back on their versions, verified, 3.1 s", then what did not end well. */
export function batchSummaryText(outcome: BatchOutcome): string {
  const { members, succeeded, elapsedMs } = outcome;
  const icon = succeeded === members.length ? '✅' : succeeded === 0 ? '❌' : '⚠️';
  const head = `${icon} *${escapeForSlack(outcome.batch.name)}: ${succeeded} of ${members.length} back on their versions, verified, ${formatDuration(elapsedMs)}*`;
  const others = members
    .filter((m) => m.state !== 'succeeded')
    .map((m) => `• *${m.target}* ${m.state}${m.outcome ? `: ${escapeForSlack(m.outcome)}` : ''}`);
  return [head, ...others].join('\n').slice(0, 3_900);
}

export function batchNoticeStatus(outcome: BatchOutcome): string {
  const { members, succeeded } = outcome;
  if (succeeded === members.length) return `✅ done in ${formatDuration(outcome.elapsedMs)}`;
  return `${succeeded === 0 ? '❌' : '⚠️'} ${succeeded} of ${members.length} done — see thread`;
}
