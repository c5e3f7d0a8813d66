import { describeApprovers } from '../../core/approval.js';
import { formatDuration } from '../../core/duration.js';
import type { LiftedFreeze } from '../../core/freeze.js';
import type { HistoryEntry, TargetStatus } from '../../core/rollback-queries.js';
import { threadLink } from '../post-to-channel.js';
import { mention, renderText } from '../render-text.js';
import { escapeForSlack } from '../slack-text.js';
import { endedFreezesText, frozenLine } from './freeze-blocks.js';

/** Who approves what, as help shows it: the file's list, and each target or group with a list of its own. */
export interface HelpApprovals {
  rules: {
    approvers: readonly string[];
    requestTtlMs: number;
    allowSelfApproval: boolean;
    selfApprovalAfterMs?: number | undefined;
  };
  groups: Readonly<Record<string, readonly string[]>>;
  /** Targets and groups with approvers of their own. */
  own: ReadonlyArray<{ name: string; approvers: readonly string[] }>;
}

/** The break-glass line of help, when rollback.yml sets selfApprovalAfter. */
function breakGlassHelp(rules: { allowSelfApproval: boolean; selfApprovalAfterMs?: number | undefined }): string {
  if (rules.allowSelfApproval || rules.selfApprovalAfterMs === undefined) return '';
  return ` Break-glass: when no approver has acted on a request for ${formatDuration(rules.selfApprovalAfterMs)}, its requester may approve it, typing the target's name.`;
}

export function helpText(targets: readonly string[], approvals: HelpApprovals): string {
  const { rules, groups } = approvals;
  const groupNames = Object.keys(groups);
  const own = approvals.own.map((o) => `${o.name}: ${renderText(describeApprovers(o.approvers))}`);
  return [
    '*/rollback* — break-glass rollback, with approval',
    '• `/rollback <target> [reason]` — plan a rollback to the previously active version',
    '• `/rollback <target> to v<N> [reason]` — plan a rollback to a version you name',
    '• `/rollback <target or group>… [reason]` — several targets on one approval: the leading words that name targets or groups are the targets, the rest is the reason',
    '• `/rollback status` (or `list`) — every target: live version, diverged from git or not, rollbacks under way',
    '• `/rollback history [target]` — the last rollbacks with outcome and duration, and the freezes that ended',
    '• `/rollback freeze <target> <reason>` — freeze a target by hand: the deploy gate refuses every deploy of it until an approved unfreeze',
    '• `/rollback unfreeze <target> <reason>` — ask to end a freeze; an approver must approve it',
    '• `/rollback help` — this text',
    `Targets: ${targets.map((t) => `\`${t}\``).join(', ')}`,
    ...(groupNames.length > 0
      ? [`Groups: ${groupNames.map((g) => `\`${g}\` (${(groups[g] ?? []).join(', ')})`).join(', ')}`]
      : []),
    `Approvers: ${renderText(describeApprovers(rules.approvers))}${rules.allowSelfApproval ? '' : ' (never the requester)'}${own.length > 0 ? `; with their own: ${own.join('; ')}` : ''}. Several targets need one approver allowed on all of them. Requests expire after ${formatDuration(rules.requestTtlMs)}.${breakGlassHelp(rules)}`,
    'After a rollback its target is frozen: the deploy gate lets out only a commit that contains the revert, until an approved unfreeze.',
  ].join('\n');
}

export function statusText(statuses: readonly TargetStatus[]): string {
  // The freeze is Redis's answer alone: it shows even when the provider could not be read.
  const lines = statuses.map((s) => (s.frozen ? `${targetLines(s)}\n${frozenLine(s.frozen)}` : targetLines(s)));
  return ['*Rollback targets*', ...lines].join('\n');
}

function targetLines(s: TargetStatus): string {
  if (s.error) return `• \`${s.name}\` (${s.kind}) — ⚠️ could not read: ${escapeForSlack(s.error)}`;
  const description = s.current?.description ? ` — ${escapeForSlack(s.current.description)}` : '';
  const parts = [
    `• \`${s.name}\` — ${escapeForSlack(s.resource ?? s.kind)}: *${escapeForSlack(s.current?.label ?? '?')}*${description}`,
  ];
  if (s.running) {
    const link = s.running.thread ? ` <${threadLink(s.running.thread)}|thread>` : '';
    parts.push(
      `   🔄 rollback ${s.running.state}: ${escapeForSlack(s.running.plan.from.label)} → ${escapeForSlack(s.running.plan.to.label)} (\`${s.running.id}\`)${link}`,
    );
  }
  if (s.diverged) {
    parts.push(
      `   ⚠️ diverged from git since the rollback from ${escapeForSlack(s.diverged.from.label)} (${s.diverged.at.slice(0, 16).replace('T', ' ')} UTC): revert in git and redeploy to restore symmetry`,
    );
  }
  return parts.join('\n');
}

/** A request's state at a glance, in Slack and in the terminal alike. */
export const OUTCOME_ICON: Record<string, string> = {
  succeeded: '✅',
  failed: '❌',
  stale: '⚠️',
  cancelled: '✖️',
  expired: '⌛',
  pending: '⏳',
  approved: '🔄',
  running: '🔄',
};

/** The last rollbacks, then the freezes that ended lately (if any), under them. */
export function historyText(
  entries: readonly HistoryEntry[],
  target: string | undefined,
  endedFreezes: readonly LiftedFreeze[] = [],
): string {
  const freezes = endedFreezes.length > 0 ? `\n${endedFreezesText(endedFreezes, target)}` : '';
  return `${rollbacksText(entries, target)}${freezes}`;
}

function rollbacksText(entries: readonly HistoryEntry[], target: string | undefined): string {
  if (entries.length === 0) return target ? `No rollbacks of \`${target}\` on record.` : 'No rollbacks on record.';
  const lines = entries.map(({ request, durationMs }) => {
    const took = durationMs === undefined ? '' : ` in ${formatDuration(durationMs)}`;
    const who = request.approver ? `, approved by ${mention(request.approver)}` : '';
    const when = new Date(request.createdAt).toISOString().slice(0, 16).replace('T', ' ');
    return `${OUTCOME_ICON[request.state] ?? '•'} ${when} UTC \`${request.target}\` ${escapeForSlack(request.plan.from.label)} → ${escapeForSlack(request.plan.to.label)}: ${request.state}${took} — asked by ${mention(request.requester)}${who} (\`${request.id}\`)`;
  });
  return [`*Last rollbacks${target ? ` of \`${target}\`` : ''}*`, ...lines].join('\n');
}
