import { formatBudget, formatDuration } from './duration.js';
import { mention } from './people.js';
import type { RollbackRequest } from './request.js';
import { escapeForSlack } from './slack-text.js';
import type { TimelineEvent } from './timeline.js';
import type { Plan } from './types.js';

const POST_MORTEM_MS = 48 * 3_600_000;

function utc(ms: number, withDate = false): string {
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : iso.slice(11, 19);
}

/** "Tue 24 Nov 2026, 02:00 UTC". */
export function humanDeadline(ms: number): string {
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

/** The runbooks' post-rollback actions, with dates filled in (Slack text: labels escaped). */
export function postRollbackChecklist(plan: Plan, endedAt: number): string[] {
  const from = escapeForSlack(plan.from.label);
  const to = escapeForSlack(plan.to.label);
  return [
    `Notify: the incident channel has the notice; make sure the incident's own channels and procedures are followed.`,
    `Write the incident record: timeline, impact, root-cause hypothesis (the *Incident record* button has the timeline).`,
    `Preserve evidence: logs, traces and metrics of ${plan.target} from the ${from} deploy until ${utc(endedAt)} UTC.`,
    `Fix forward and restore symmetry: revert in git what came after ${to}, commit, redeploy (or apply the fix and redeploy).`,
    `Blameless post-mortem by ${humanDeadline(endedAt + POST_MORTEM_MS)} (48 hours).`,
    `Update the runbook if anything in it was unclear or wrong.`,
  ];
}

/** What the worker writes (steps, the outcome, a follow-up's result) carries provider text as it came. */
const WORKER_KINDS: ReadonlySet<TimelineEvent['kind']> = new Set(['started', 'step', 'finished', 'revert-branch']);
/** The service's own markup in its timeline texts: mentions, channel links, and entities it escaped. */
const OWN_MARKUP = /(<(?:@[UW][A-Z0-9]+|#[CGD][A-Z0-9]+|!subteam\^S[A-Z0-9]+)>|&(?:amp|lt|gt);)|[&<>]/g;

/**
 * A timeline event's text as Slack text. The service writes its events (requested, approved…) as Slack
 * text, with person text escaped; the worker's are raw, and escaped here. An event the service wrote
 * before it escaped anything keeps its mentions and loses any other markup.
 */
export function timelineText(event: TimelineEvent): string {
  if (WORKER_KINDS.has(event.kind) || (event.kind === 'follow-up' && event.by === undefined))
    return escapeForSlack(event.text);
  return event.text.replace(OWN_MARKUP, (match: string, own?: string) => own ?? escapeForSlack(match));
}

/**
 * The record a person pastes into the incident doc: markdown, UTC times, durations against the targets.
 * It is Slack text too (live mentions, everything from people and providers escaped): the Incident record
 * button posts it in a code block; the CLI prints it with the entities turned back into characters.
 */
export function renderIncidentRecord(request: RollbackRequest, timeline: TimelineEvent[]): string {
  const { plan } = request;
  const from = escapeForSlack(plan.from.label);
  const to = escapeForSlack(plan.to.label);
  const described = (v: Plan['from']) => (v.description ? ` (${escapeForSlack(v.description)})` : '');
  const finished = [...timeline].reverse().find((e) => e.kind === 'finished');
  const approved = timeline.find((e) => e.kind === 'approved');
  const lines: string[] = [];
  lines.push(`# Rollback of ${plan.target}: ${from} → ${to}`, '');
  lines.push(`- Request: \`${request.id}\` (${request.state})`);
  lines.push(`- Target: ${plan.target} — ${escapeForSlack(plan.resource)}`);
  lines.push(`- From: ${from}${described(plan.from)}`);
  lines.push(`- To: ${to}${described(plan.to)}, chosen from ${plan.selection}`);
  lines.push(
    `- Requested by: ${mention(request.requester)} at ${utc(request.createdAt, true)}${request.reason ? ` — "${escapeForSlack(request.reason)}"` : ''}`,
  );
  if (request.approver)
    lines.push(`- Approved by: ${mention(request.approver)}${approved ? ` at ${utc(approved.at, true)}` : ''}`);
  if (request.closedBy)
    lines.push(
      `- Closed by: ${request.closedBy === 'ttl' ? 'expiry' : `${mention(request.closedBy)}`}${request.closedAt ? ` at ${utc(request.closedAt, true)}` : ''}`,
    );
  if (finished?.durationMs !== undefined) {
    const within = finished.durationMs <= plan.budgetMs;
    lines.push(
      `- Approval → end: ${formatDuration(finished.durationMs)} (target ${formatBudget(plan.budgetMs)}: ${within ? 'met' : 'MISSED'})`,
    );
  }
  if (request.outcome) lines.push(`- Outcome: ${escapeForSlack(request.outcome)}`);
  lines.push('', '## Timeline (UTC)', '', '| time | event | took |', '| --- | --- | --- |');
  for (const event of timeline) {
    const mark = event.ok === true ? '✅ ' : event.ok === false ? '❌ ' : '';
    const took = event.durationMs !== undefined && event.kind === 'step' ? formatDuration(event.durationMs) : '';
    lines.push(
      `| ${utc(event.at)} | ${mark}${event.kind}: ${timelineText(event).replace(/\|/g, '\\|').replace(/\n/g, ' ')} | ${took} |`,
    );
  }
  if (finished?.checks?.length) {
    lines.push('', '## Verification', '');
    for (const check of finished.checks)
      lines.push(`- ${check.ok ? '✅' : '❌'} ${escapeForSlack(check.name)}: ${escapeForSlack(check.detail)}`);
  }
  const revert = [...timeline].reverse().find((e) => e.kind === 'revert-branch' && e.commits);
  if (revert?.commits) {
    lines.push('', '## Commits undone', '', escapeForSlack(revert.text), '');
    for (const commit of revert.commits)
      lines.push(`- \`${commit.sha.slice(0, 10)}\` ${escapeForSlack(commit.subject)}`);
  }
  lines.push('', '## After the rollback', '');
  for (const item of postRollbackChecklist(plan, finished?.at ?? request.finishedAt ?? Date.now()))
    lines.push(`- [ ] ${item}`);
  return lines.join('\n');
}
