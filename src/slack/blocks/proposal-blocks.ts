import type { types } from '@slack/bolt';
import type { ProposalWords } from '../../core/ports/alert-proposals.js';
import type { RollbackRequest } from '../../core/request.js';
import { renderText } from '../render-text.js';
import { escapeForSlack } from '../slack-text.js';
import { approvalRequestMessage } from './request-blocks.js';

/**
 * The usual approval request, marked as proposed by alerts: its header says so, the headline asks the question
 * ("🔔 HighErrorRate firing for cdn since 02:14, 3 min after v42 went live. Roll back to v41?") and a line per
 * alert follows. Alert names, labels and annotations are outside text: renderText escapes every word of them.
 */
export function proposalMessage(
  request: RollbackRequest,
  rules: { approvers: readonly string[]; allowSelfApproval: boolean },
  words: ProposalWords,
) {
  const usual = approvalRequestMessage(request, rules);
  const headline = renderText(words.headline);
  const alerts = words.alerts.map((line) => `• ${renderText(line)}`);
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `🔔 Rollback proposed: ${request.target}` } },
    { type: 'section', text: { type: 'mrkdwn', text: `*${headline}*` } },
    // Slack allows 3000 characters in a section; a storm of alerts keeps its first lines and a count.
    { type: 'context', elements: [{ type: 'mrkdwn', text: fitted(alerts, 2_900) }] },
    ...(usual.blocks.slice(1) as types.KnownBlock[]),
  ];
  const text = `Rollback proposed by Alertmanager: ${escapeForSlack(request.target)} ${escapeForSlack(request.plan.from.label)} → ${escapeForSlack(request.plan.to.label)}, waiting for approval`;
  return { text, blocks };
}

function fitted(lines: readonly string[], max: number): string {
  const kept: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    const more = `… and ${lines.length - i} more`;
    if (length + line.length + 1 > max - more.length) return [...kept, more].join('\n');
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join('\n');
}
