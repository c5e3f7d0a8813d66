import { formatBudget, formatDuration } from '../core/duration.js';
import { timelineText } from '../core/incident-record.js';
import type { RollbackRequest } from '../core/request.js';
import type { HistoryEntry, TargetStatus } from '../core/rollback-queries.js';
import type { TimelineEvent } from '../core/timeline.js';
import type { Plan, VersionInfo } from '../core/types.js';
import { OUTCOME_ICON } from '../slack/blocks/help-blocks.js';
import { TERMINAL } from './render-text.js';

/**
 * Terminal renderings of what the Slack blocks show; the same facts, in the same words. Text from people and
 * providers is printed as written: Output strips what a terminal would act on.
 */

const SELECTION_NOTE: Record<Plan['selection'], string> = {
  history: 'Chosen from the activation history',
  inferred: '⚠️ Inferred, not read from history',
  explicit: 'Asked for explicitly',
};

function version(v: VersionInfo): string {
  return v.description ? `${v.label} — ${v.description}` : v.label;
}

function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function planLines(plan: Plan): string[] {
  return [
    `${plan.target} — ${plan.resource}`,
    `  Live now: ${version(plan.from)}`,
    `  Restore:  ${version(plan.to)}  📌 pinned`,
    `  Why:      ${[SELECTION_NOTE[plan.selection], ...plan.notes].join(' · ')}`,
    '  What will run:',
    ...plan.steps.map((step, i) => `    ${i + 1}. ${step}`),
    `  Runbook target: ${formatBudget(plan.budgetMs)} from approval to verified.`,
  ];
}

const ICON = { ok: '✅', failed: '❌', info: 'ℹ️' } as const;

/** One line of the live progress, from a timeline event; undefined for events the CLI says itself. */
export function progressLine(event: TimelineEvent): string | undefined {
  const took = event.durationMs === undefined ? '' : ` (${formatDuration(event.durationMs)})`;
  const icon = event.ok === true ? ICON.ok : event.ok === false ? ICON.failed : ICON.info;
  const text = timelineText(event, TERMINAL);
  switch (event.kind) {
    case 'started':
      return `   ${ICON.info} ${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
    case 'step':
      return `   ${icon} ${text}${took}`;
    case 'revert-branch':
    case 'follow-up':
      return `   ${icon} ${text}`;
    default:
      return undefined;
  }
}

/** The outcome, its time against the runbook's target, and what comes next. */
export function outcomeLines(request: RollbackRequest, finished: TimelineEvent | undefined): string[] {
  const { plan } = request;
  const to = plan.to.label;
  const ms =
    finished?.durationMs ??
    (request.finishedAt !== undefined && request.approvedAt !== undefined
      ? request.finishedAt - request.approvedAt
      : undefined);
  switch (request.state) {
    case 'succeeded': {
      const budget =
        ms === undefined
          ? ''
          : ` ${formatDuration(ms)} from approval, ${ms <= plan.budgetMs ? 'within' : '⚠️ over'} the runbook's ${formatBudget(plan.budgetMs)} target.`;
      return [
        `✅ ${plan.target} is back on ${to}, verified.${budget}`,
        `   This rollback cannot be undone from the same pipeline. Git and ${plan.target} now disagree: revert the changes after ${to} in git and redeploy, or fix forward.`,
        `   Incident record: rapid-rollback record ${request.id}`,
      ];
    }
    case 'stale':
      return [
        `⚠️ Rollback of ${plan.target} stopped: the plan no longer matches what is live. Nothing was changed.`,
        `   Run \`rapid-rollback plan ${plan.target}\` for a fresh plan.`,
      ];
    case 'failed':
      return [
        `❌ Rollback of ${plan.target} failed${ms === undefined ? '' : ` after ${formatDuration(ms)}`}: ${request.outcome === undefined ? 'see the steps above' : request.outcome}`,
        `   Check what is live with \`rapid-rollback status\` before anything else; the record: rapid-rollback record ${request.id}`,
      ];
    default:
      return [
        `🔄 Rollback of ${plan.target} is ${request.state}: follow it with \`rapid-rollback status\` or \`rapid-rollback record ${request.id}\`.`,
      ];
  }
}

export function statusLines(statuses: readonly TargetStatus[]): string[] {
  const width = Math.max(...statuses.map((s) => s.name.length));
  return statuses.flatMap((s) => {
    const name = s.name.padEnd(width);
    const indent = ' '.repeat(width + 2);
    if (s.error) return [`⚠️ ${name}  (${s.kind}) could not read: ${s.error}`];
    const lines = [`• ${name}  ${s.current ? version(s.current) : '?'} — ${s.resource ?? s.kind}`];
    if (s.running)
      lines.push(
        `${indent}🔄 rollback ${s.running.state}: ${s.running.plan.from.label} → ${s.running.plan.to.label} (${s.running.id})`,
      );
    if (s.diverged) {
      lines.push(
        `${indent}⚠️ diverged from git since the rollback from ${s.diverged.from.label} (${s.diverged.at.slice(0, 16).replace('T', ' ')} UTC): revert in git and redeploy to restore symmetry`,
      );
    }
    return lines;
  });
}

export function historyLines(entries: readonly HistoryEntry[], target: string | undefined): string[] {
  if (entries.length === 0) return [target ? `No rollbacks of ${target} on record.` : 'No rollbacks on record.'];
  return entries.map(({ request, durationMs }) => {
    const took = durationMs === undefined ? '' : ` in ${formatDuration(durationMs)}`;
    const who = request.approver ? `, approved by ${request.approver}` : '';
    return `${OUTCOME_ICON[request.state] ?? '•'} ${utcMinute(request.createdAt)}  ${request.target} ${request.plan.from.label} → ${request.plan.to.label}: ${request.state}${took} — asked by ${request.requester}${who} (${request.id})`;
  });
}
