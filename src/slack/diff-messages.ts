import { escapeForSlack, fenceSafe } from './slack-text.js';

/**
 * Slack cuts a message's text at 40 000 characters; each part stays well under, with room for its header.
 */
const DIFF_PART_ROOM = 12_000;
/** Parts posted at most; a longer diff says how many lines were left out. */
const PARTS_POSTED = 10;
/** `&` becomes `&amp;`: a raw piece this long stays under the room once escaped. */
const ESCAPED_GROWTH = 5;

/** The diff's lines escaped for a code block, a line too long for one part cut into pieces that fit. */
function escapedLines(diff: string, room: number): string[] {
  const lines: string[] = [];
  for (const line of diff.split('\n')) {
    const escaped = escapeForSlack(line);
    if (escaped.length <= room) {
      lines.push(escaped);
      continue;
    }
    const piece = Math.floor(room / ESCAPED_GROWTH);
    for (let at = 0; at < line.length; at += piece) lines.push(escapeForSlack(line.slice(at, at + piece)));
  }
  return lines;
}

/**
 * A text diff as Slack messages: each a header line and one ``` block, split on line boundaries so that every
 * part is a readable diff of its own. Provider text is escaped (no mention, no link) and cannot close the block.
 * `header(i, n)` is the bot's own mrkdwn for part i of n.
 */
export function diffMessages(
  diff: string,
  header: (part: number, parts: number) => string,
  room = DIFF_PART_ROOM,
): string[] {
  const chunks: string[][] = [[]];
  let used = 0;
  for (const line of escapedLines(diff, room)) {
    const current = chunks[chunks.length - 1] ?? [];
    if (current.length > 0 && used + line.length + 1 > room) {
      chunks.push([line]);
      used = line.length + 1;
    } else {
      current.push(line);
      used += line.length + 1;
    }
  }
  const posted = chunks.slice(0, PARTS_POSTED);
  const left = chunks.slice(PARTS_POSTED).reduce((n, c) => n + c.length, 0);
  return posted.map((chunk, i) => {
    const tail =
      i === posted.length - 1 && left > 0
        ? `\n_${left} more lines not shown: see the diff in Fastly's web interface._`
        : '';
    return `${header(i + 1, posted.length)}\n\`\`\`\n${fenceSafe(chunk.join('\n'))}\n\`\`\`${tail}`;
  });
}
