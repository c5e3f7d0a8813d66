import { TARGET_NAME } from '../config/rollback-file.js';
import { MAX_REASON_LENGTH } from '../core/names.js';
import { escapeForSlack } from './slack-text.js';

export type Command =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'history'; target: string | undefined }
  | { kind: 'rollback'; target: string; toVersion: string | undefined; reason: string }
  | { kind: 'invalid'; message: string };

const MAX_TEXT_LENGTH = 4_000;

/**
 * Parses the text after `/rollback`. Pure and total: every input, however hostile, gets an answer.
 *
 *   help | list | status | history [target] | <target> [reason…] | <target> to v<N> [reason…]
 */
export function parseCommand(raw: string): Command {
  if (raw.length > MAX_TEXT_LENGTH) {
    return {
      kind: 'invalid',
      message: `That command is ${raw.length} characters long; keep it under ${MAX_TEXT_LENGTH}.`,
    };
  }
  // Control characters never mean anything here; treat them as spaces so they cannot hide a word.
  const text = raw.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/g, ' ').trim();
  const words = text.split(/\s+/).filter(Boolean);
  const first = words[0]?.toLowerCase();
  if (first === undefined || first === 'help' || first === '-h' || first === '--help') return { kind: 'help' };
  if (first === 'list' || first === 'targets' || first === 'status') return { kind: 'list' };
  if (first === 'history') {
    const target = words[1]?.toLowerCase();
    if (target !== undefined && !TARGET_NAME.test(target))
      return { kind: 'invalid', message: 'Usage: `/rollback history [target]`.' };
    return { kind: 'history', target };
  }

  if (!TARGET_NAME.test(first)) {
    const original = words[0] ?? first;
    const shown = original.length > 40 ? `${original.slice(0, 40)}…` : original;
    return {
      kind: 'invalid',
      message: `"${escapeForSlack(shown)}" is not a target name. Usage: \`/rollback <target> [reason]\`, \`/rollback <target> to v<N> [reason]\`, \`/rollback list\`.`,
    };
  }

  let rest = words.slice(1);
  let toVersion: string | undefined;
  if (rest[0]?.toLowerCase() === 'to') {
    const match = /^v?(\d{1,9})$/i.exec(rest[1] ?? '');
    if (!match) {
      return {
        kind: 'invalid',
        message: `After "to", name a version like \`v41\`: \`/rollback ${first} to v41 [reason]\`.`,
      };
    }
    toVersion = String(Number(match[1]));
    rest = rest.slice(2);
  }
  const reason = rest.join(' ');
  if (reason.length > MAX_REASON_LENGTH) {
    return {
      kind: 'invalid',
      message: `The reason is ${reason.length} characters long; keep it under ${MAX_REASON_LENGTH} (link the incident instead).`,
    };
  }
  return { kind: 'rollback', target: first, toVersion, reason };
}
