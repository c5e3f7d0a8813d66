import { describeApprovers } from './approval.js';
import { breakGlassWords } from './break-glass.js';
import { formatBudget, formatDuration } from './duration.js';
import type { RollbackRequest } from './request.js';
import { render, type TextRenderer } from './text.js';
import type { TimelineEvent } from './timeline.js';
import type { Plan } from './types.js';

const POST_MORTEM_MS = 48 * 3_600_000;

function utc(ms: number, withDate = false): string {
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : iso.slice(11, 19);
}

/** "Tue 24 Nov 2026, 02:00 UTC". */
function humanDeadline(ms: number): string {
  const d = new Date(ms);
  const day = d.toLocaleDateString('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
  return `${day}, ${d.toISOString().slice(11, 16)} UTC`;
}

/**
 * The runbooks' post-rollback actions, with dates filled in. Labels from providers go through the front end's
 * renderer (`r.literal`), so they land escaped for wherever the list is shown.
 */
export function postRollbackChecklist(plan: Plan, endedAt: number, r: TextRenderer): string[] {
  const from = r.literal(plan.from.label);
  const to = r.literal(plan.to.label);
  return [
    `Notify: the incident channel has the notice; make sure the incident's own channels and procedures are followed.`,
    `Write the incident record: timeline, impact, root-cause hypothesis (the *Incident record* button has the timeline).`,
    `Preserve evidence: logs, traces and metrics of ${plan.target} from the ${from} deploy until ${utc(endedAt)} UTC.`,
    `Fix forward and restore symmetry: revert in git what came after ${to}, commit, redeploy (or apply the fix and redeploy).`,
    `Blameless post-mortem by ${humanDeadline(endedAt + POST_MORTEM_MS)} (48 hours).`,
    `Update the runbook if anything in it was unclear or wrong.`,
  ];
}

/** A timeline event's words, rendered for the front end: references as it writes them, the rest escaped. */
export function timelineText(event: TimelineEvent, r: TextRenderer): string {
  return render(event.text, r);
}

/**
 * The record a person pastes into the incident doc: markdown, UTC times, durations against the targets.
 * The markdown is the core's; every reference and every text from people and providers goes through the
 * front end's renderer `r` (Slack: live mentions, escaped text; the terminal: names as written).
 */
export function renderIncidentRecord(request: RollbackRequest, timeline: TimelineEvent[], r: TextRenderer): string {
  const { plan } = request;
  const from = r.literal(plan.from.label);
  const to = r.literal(plan.to.label);
  const described = (v: Plan['from']) => (v.description ? ` (${r.literal(v.description)})` : '');
  const finished = [...timeline].reverse().find((e) => e.kind === 'finished');
  const approved = timeline.find((e) => e.kind === 'approved');
  const lines: string[] = [];
  lines.push(`# Rollback of ${plan.target}: ${from} → ${to}`, '');
  lines.push(`- Request: \`${request.id}\` (${request.state})`);
  lines.push(`- Target: ${plan.target} — ${r.literal(plan.resource)}`);
  lines.push(`- From: ${from}${described(plan.from)}`);
  lines.push(`- To: ${to}${described(plan.to)}, chosen from ${plan.selection}`);
  lines.push(
    `- Requested by: ${r.person(request.requester)} at ${utc(request.createdAt, true)}${request.reason ? ` — "${r.literal(request.reason)}"` : ''}`,
  );
  if (request.approver) {
    const glass = request.breakGlass
      ? ` — ${breakGlassWords(request.breakGlass)}; approvers ${render(describeApprovers(request.breakGlass.approvers), r)} had not acted`
      : '';
    lines.push(
      `- Approved by: ${r.person(request.approver)}${approved ? ` at ${utc(approved.at, true)}` : ''}${glass}`,
    );
  }
  if (request.closedBy)
    lines.push(
      `- Closed by: ${request.closedBy === 'ttl' ? 'expiry' : r.person(request.closedBy)}${request.closedAt ? ` at ${utc(request.closedAt, true)}` : ''}`,
    );
  if (finished?.durationMs !== undefined) {
    const within = finished.durationMs <= plan.budgetMs;
    lines.push(
      `- Approval → end: ${formatDuration(finished.durationMs)} (target ${formatBudget(plan.budgetMs)}: ${within ? 'met' : 'MISSED'})`,
    );
  }
  if (request.outcome) lines.push(`- Outcome: ${r.literal(request.outcome)}`);
  lines.push('', '## Timeline (UTC)', '', '| time | event | took |', '| --- | --- | --- |');
  for (const event of timeline) {
    const mark = event.ok === true ? '✅ ' : event.ok === false ? '❌ ' : '';
    const took = event.durationMs !== undefined && event.kind === 'step' ? formatDuration(event.durationMs) : '';
    lines.push(
      `| ${utc(event.at)} | ${mark}${event.kind}: ${timelineText(event, r).replace(/\|/g, '\\|').replace(/\n/g, ' ')} | ${took} |`,
    );
  }
  if (finished?.checks?.length) {
    lines.push('', '## Verification', '');
    for (const check of finished.checks)
      lines.push(`- ${check.ok ? '✅' : '❌'} ${r.literal(check.name)}: ${r.literal(check.detail)}`);
  }
  const revert = [...timeline].reverse().find((e) => e.kind === 'revert-branch' && e.commits);
  if (revert?.commits) {
    lines.push('', '## Commits undone', '', timelineText(revert, r), '');
    for (const commit of revert.commits) lines.push(`- \`${commit.sha.slice(0, 10)}\` ${r.literal(commit.subject)}`);
  }
  lines.push('', '## After the rollback', '');
  for (const item of postRollbackChecklist(plan, finished?.at ?? request.finishedAt ?? Date.now(), r))
    lines.push(`- [ ] ${item}`);
  return lines.join('\n');
}
