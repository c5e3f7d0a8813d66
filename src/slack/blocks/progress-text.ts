import { formatBudget, formatDuration } from '../../core/duration.js';
import type { FinishedRollback } from '../../core/run-rollback.js';
import type { StepReport } from '../../core/types.js';
import { renderText } from '../render-text.js';
import { codeBlockText, escapeForSlack } from '../slack-text.js';

const ICON: Record<StepReport['status'], string> = { ok: '✅', failed: '❌', info: 'ℹ️', progress: '⏳' };

export function stepText(step: StepReport): string {
  const took = step.durationMs === undefined ? '' : ` (${formatDuration(step.durationMs)})`;
  const text = typeof step.text === 'string' ? slackStepText(step.text) : renderText(step.text);
  return `${ICON[step.status]} ${text}${took}`;
}

/**
 * A step's text as Slack text. Steps carry provider text as it came (names, versions, error messages,
 * command output), so all of it is escaped; what stands between the first and the last ``` of a step
 * (the output the worker puts in a code block) stays one code block, whatever the output holds.
 */
export function slackStepText(text: string): string {
  const open = text.indexOf('```');
  const close = text.lastIndexOf('```');
  if (open < 0 || close === open) return escapeForSlack(text);
  return `${escapeForSlack(text.slice(0, open))}\`\`\`${codeBlockText(text.slice(open + 3, close))}\`\`\`${escapeForSlack(text.slice(close + 3))}`;
}

/** The budget line: "4.2 s from approval, within the 60 s target". */
function budgetText(result: FinishedRollback): string {
  const { sinceApprovalMs } = result;
  const budget = result.job.plan.budgetMs;
  const within = sinceApprovalMs <= budget;
  return `${formatDuration(sinceApprovalMs)} from approval, ${within ? 'within' : '⚠️ over'} the runbook's ${formatBudget(budget)} target`;
}

/** The last message in the thread: the outcome, the time against the runbook's target, what next. */
export function finishText(result: FinishedRollback): string {
  const { plan, followUp } = result.job;
  const { outcome } = result;
  const to = escapeForSlack(plan.to.label);
  if (followUp) {
    const label = escapeForSlack(followUp.label);
    const detail = outcome.checks[0]?.detail ?? outcome.error?.message ?? '';
    return outcome.status === 'succeeded'
      ? `✅ *${label} for ${plan.target} done* in ${formatDuration(result.runMs)}: ${escapeForSlack(detail.replace(/\.$/, ''))}.`
      : `❌ *${label} for ${plan.target} failed*: ${outcome.error ? renderText(outcome.error.userText()) : escapeForSlack(detail)}`;
  }
  switch (outcome.status) {
    case 'succeeded':
    case 'already-done':
      return [
        `✅ *${plan.target} is back on ${to}*, verified. ${budgetText(result)}.`,
        `This rollback cannot be undone from the same pipeline. Git and ${plan.target} now disagree: revert the changes after ${to} in git and redeploy, or fix forward.`,
      ].join('\n');
    case 'stale':
      return `⚠️ *Rollback of ${plan.target} stopped*: the plan no longer matches what is live. Nothing was changed. Run \`/rollback ${plan.target}\` for a fresh plan.`;
    case 'failed': {
      const live = outcome.live ? ` Live now: *${escapeForSlack(outcome.live.label)}*.` : '';
      const hint = outcome.error?.hintText ? `\n${renderText(outcome.error.hintText)}` : '';
      const what = outcome.error ? renderText(outcome.error.text) : 'verification failed';
      return `❌ *Rollback of ${plan.target} failed* after ${formatDuration(result.runMs)}: ${what}${live}${hint}`;
    }
  }
}

export function noticeStatus(result: FinishedRollback): string {
  switch (result.outcome.status) {
    case 'succeeded':
    case 'already-done':
      return `✅ done in ${formatDuration(result.sinceApprovalMs)}`;
    case 'stale':
      return '⚠️ stopped: stale plan, nothing changed';
    case 'failed':
      return '❌ failed — see thread';
  }
}
