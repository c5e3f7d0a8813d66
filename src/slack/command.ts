import { TARGET_NAME } from '../config/rollback-file.js';
import { MAX_REASON_LENGTH } from '../core/names.js';
import { escapeForSlack } from './slack-text.js';

export type Command =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'history'; target: string | undefined }
  | { kind: 'rollback'; target: string; toVersion: string | undefined; reason: string }
  /** The deploy gate holds the target at once. */
  | { kind: 'freeze'; target: string; reason: string }
  /** Asks an approver to end the target's freeze. */
  | { kind: 'unfreeze'; target: string; reason: string }
  | { kind: 'invalid'; message: string };

const MAX_TEXT_LENGTH = 4_000;

/**
 * Parses the text after `/rollback`. Pure and total: every input, however hostile, gets an answer.
 *
 *   help | list | status | history [target] | freeze <target> <reason…> | unfreeze <target> <reason…>
 *   | <target> [reason…] | <target> to v<N> [reason…]
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
  if (first === 'freeze' || first === 'unfreeze') return parseFreeze(first, words.slice(1));
  if (first === 'gate') {
    return {
      kind: 'invalid',
      message:
        'Pipelines ask the deploy gate over HTTP; `/rollback status` shows which targets are frozen and what lifts each freeze.',
    };
  }

  if (!TARGET_NAME.test(first)) {
    return {
      kind: 'invalid',
      message: `${notATarget(words[0] ?? first)} Usage: \`/rollback <target> [reason]\`, \`/rollback <target> to v<N> [reason]\`, \`/rollback list\`.`,
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
  if (reason.length > MAX_REASON_LENGTH) return reasonTooLong(reason);
  return { kind: 'rollback', target: first, toVersion, reason };
}

/** `freeze <target> <reason…>` and `unfreeze <target> <reason…>`: the reason goes in the record, so it is required. */
function parseFreeze(action: 'freeze' | 'unfreeze', words: readonly string[]): Command {
  const usage = `\`/rollback ${action} <target> <reason>\``;
  const original = words[0];
  if (original === undefined) return { kind: 'invalid', message: `Name the target and say why: ${usage}.` };
  const target = original.toLowerCase();
  if (!TARGET_NAME.test(target)) return { kind: 'invalid', message: `${notATarget(original)} Usage: ${usage}.` };
  const reason = words.slice(1).join(' ');
  if (reason === '') {
    const effect =
      action === 'freeze'
        ? `the deploy gate refuses every deploy of ${target} until an approved unfreeze`
        : `an approver reads it before the deploy gate lets deploys of ${target} through again`;
    return {
      kind: 'invalid',
      message: `Say why: \`/rollback ${action} ${target} <reason>\`. The reason goes in the record, and ${effect}.`,
    };
  }
  if (reason.length > MAX_REASON_LENGTH) return reasonTooLong(reason);
  return { kind: action, target, reason };
}

function notATarget(original: string): string {
  const shown = original.length > 40 ? `${original.slice(0, 40)}…` : original;
  return `"${escapeForSlack(shown)}" is not a target name.`;
}

function reasonTooLong(reason: string): Command {
  return {
    kind: 'invalid',
    message: `The reason is ${reason.length} characters long; keep it under ${MAX_REASON_LENGTH} (link the incident instead).`,
  };
}
