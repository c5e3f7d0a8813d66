import type { GateAnswer } from '../core/deploy-gate.js';
import { formatBudget, formatDuration } from '../core/duration.js';
import type { Freeze, LiftedFreeze } from '../core/freeze.js';
import type { FrozenTarget } from '../core/freeze-service.js';
import { timelineText } from '../core/incident-record.js';
import type { RollbackRequest } from '../core/request.js';
import type { HistoryEntry, TargetStatus } from '../core/rollback-queries.js';
import type { TimelineEvent } from '../core/timeline.js';
import type { Plan, VersionInfo } from '../core/types.js';
import { OUTCOME_ICON } from '../slack/blocks/help-blocks.js';
import { changeLines } from './changes-lines.js';
import { TERMINAL, terminalText } from './render-text.js';

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
    ...changeLines(plan),
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
    // Core's line carries its icon: 🔒 frozen, or ⚠️ when the freeze could not be written.
    case 'frozen':
      return `   ${text}`;
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

export function statusLines(statuses: readonly TargetStatus[], now = Date.now()): string[] {
  const width = Math.max(...statuses.map((s) => s.name.length));
  return statuses.flatMap((s) => {
    const name = s.name.padEnd(width);
    const indent = ' '.repeat(width + 2);
    // The freeze is Redis's answer: shown even when the provider could not be read.
    const frozen = s.frozen ? [`${indent}${frozenLine(s.frozen, now)}`] : [];
    if (s.error) return [`⚠️ ${name}  (${s.kind}) could not read: ${s.error}`, ...frozen];
    const lines = [`• ${name}  ${s.current ? version(s.current) : '?'} — ${s.resource ?? s.kind}`, ...frozen];
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

/** "02:31 UTC" within a day, with the date before that: a freeze lasts until it is lifted, days perhaps. */
function recently(ms: number, now: number): string {
  return now - ms < 86_400_000 ? `${new Date(ms).toISOString().slice(11, 16)} UTC` : utcMinute(ms);
}

/** Which freeze: the rollback that froze the target, or who froze it by hand and why. */
function frozenBy(freeze: Freeze): string {
  if (freeze.cause === 'manual') return `${freeze.id} (by hand, ${TERMINAL.person(freeze.by)}: "${freeze.reason}")`;
  const versions = freeze.from && freeze.restored ? ` ${freeze.from.label} → ${freeze.restored.label}` : '';
  return `${freeze.id} (rollback${versions})`;
}

/** "🔒 frozen since 02:31 UTC by rb-… (rollback v42 → v41) — lifts with: …", under the target in status. */
export function frozenLine({ freeze, lift }: FrozenTarget, now = Date.now()): string {
  return `🔒 frozen since ${recently(freeze.since, now)} by ${frozenBy(freeze)} — lifts with: ${terminalText(lift)}`;
}

/** Ended freezes, newest first: when, which, and what ended it. */
export function freezeHistoryLines(freezes: readonly LiftedFreeze[]): string[] {
  return freezes.map((f) => {
    const sameDay = utcMinute(f.since).slice(0, 10) === utcMinute(f.lifted.at).slice(0, 10);
    const ended = sameDay ? utcMinute(f.lifted.at).slice(11) : utcMinute(f.lifted.at);
    return `🔓 ${utcMinute(f.since)} → ${ended}  ${f.target} frozen by ${frozenBy(f)}: ${terminalText(f.lifted.why)}`;
  });
}

/** The gate's answer: deployable or not, why, and what lifts the freeze. */
export function gateLines(answer: GateAnswer): string[] {
  if (!answer.freeze) return [`✅ Deployable to ${answer.target}: it is not frozen.`];
  if (answer.deployable) return [`✅ Deployable to ${answer.target}: ${terminalText(answer.because)}.`];
  return [
    `🔒 Not deployable to ${answer.target}: ${terminalText(answer.reason)}.`,
    `   Lifts with: ${terminalText(answer.lift)}.`,
  ];
}
