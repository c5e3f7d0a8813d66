import type { types } from '@slack/bolt';
import { changeWords, hasFullDiff } from '../../core/changes-text.js';
import type { Plan } from '../../core/types.js';
import { escapeForSlack } from '../slack-text.js';

type KnownBlock = types.KnownBlock;

export const SHOW_DIFF_ACTION = 'rollback_show_diff';

/** Slack refuses a section's text over 3 000 characters; a long line is cut, and lines past the room are counted. */
const SECTION_ROOM = 2_800;
const LINE_ROOM = 300;

function cut(line: string): string {
  return line.length > LINE_ROOM ? `${line.slice(0, LINE_ROOM - 1)}…` : line;
}

/** The changes as one mrkdwn text: each title in bold, its lines under it; provider text escaped. */
function changesText(plan: Plan): string | undefined {
  const words = changeWords(plan);
  if (words.length === 0) return undefined;
  const rows = words.flatMap((w) => [
    `*${escapeForSlack(cut(w.title))}*`,
    ...w.lines.map((l) => escapeForSlack(cut(l))),
  ]);
  const kept: string[] = [];
  let used = 0;
  for (const [i, row] of rows.entries()) {
    if (used + row.length + 1 > SECTION_ROOM) {
      kept.push(`_and ${rows.length - i} more lines_`);
      break;
    }
    kept.push(row);
    used += row.length + 1;
  }
  return kept.join('\n');
}

/**
 * What the rollback changes, for a plan in a message (the request, a batch of several plans): a section with the
 * summary, and a "Show diff" button when the provider has a full diff to post in the thread. No blocks when the
 * plan says nothing of its changes.
 */
export function changesBlocks(plan: Plan, requestId: string): KnownBlock[] {
  const summary = changesText(plan);
  if (!summary) return [];
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*What changes*\n${summary}` } }];
  if (hasFullDiff(plan)) {
    blocks.push({
      type: 'actions',
      block_id: `rollback_changes_${plan.target}`.slice(0, 255),
      elements: [
        {
          type: 'button',
          action_id: SHOW_DIFF_ACTION,
          text: { type: 'plain_text', text: 'Show diff' },
          value: requestId,
        },
      ],
    });
  }
  return blocks;
}
