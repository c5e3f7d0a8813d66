import { formatDuration } from '../../core/duration.js';
import type { TargetStatus } from '../../core/rollback-service.js';
import { describeApprovers } from '../../core/approval.js';
import { escapeForSlack } from '../../core/command.js';

export function helpText(targets: readonly string[], rules: { approvers: readonly string[]; requestTtlMs: number; allowSelfApproval: boolean }): string {
  return [
    '*/rollback* — break-glass rollback, with approval',
    '• `/rollback <target> [reason]` — plan a rollback to the previously active version',
    '• `/rollback <target> to v<N> [reason]` — plan a rollback to a version you name',
    '• `/rollback list` — every target and its live version',
    '• `/rollback help` — this text',
    `Targets: ${targets.map((t) => `\`${t}\``).join(', ')}`,
    `Approvers: ${describeApprovers(rules.approvers)}${rules.allowSelfApproval ? '' : ' (never the requester)'}. Requests expire after ${formatDuration(rules.requestTtlMs)}.`,
  ].join('\n');
}

export function statusText(statuses: readonly TargetStatus[]): string {
  const lines = statuses.map((s) => {
    if (s.error) return `• \`${s.name}\` (${s.kind}) — ⚠️ could not read: ${s.error}`;
    const running = s.runningRequest ? ` · 🔄 rollback under way (\`${s.runningRequest}\`)` : '';
    const description = s.current?.description ? ` — ${escapeForSlack(s.current.description)}` : '';
    return `• \`${s.name}\` — ${s.resource}: *${s.current?.label}*${description}${running}`;
  });
  return ['*Rollback targets*', ...lines].join('\n');
}
