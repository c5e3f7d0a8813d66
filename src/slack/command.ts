import { TARGET_NAME } from '../config/rollback-file.js';
import { MAX_REASON_LENGTH } from '../core/names.js';
import { escapeForSlack } from './slack-text.js';

export type Command =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'history'; target: string | undefined }
  | { kind: 'rollback'; target: string; toVersion: string | undefined; reason: string }
  /** Several targets, one approval: `name` is the group's, or the targets joined ("cdn + api"). */
  | { kind: 'rollback-many'; name: string; targets: string[]; reason: string }
  /** The deploy gate holds the target at once. */
  | { kind: 'freeze'; target: string; reason: string }
  /** Asks an approver to end the target's freeze. */
  | { kind: 'unfreeze'; target: string; reason: string }
  | { kind: 'invalid'; message: string };

const MAX_TEXT_LENGTH = 4_000;

/** The names `/rollback` knows: rollback.yml's targets and groups (one namespace). */
export interface KnownNames {
  targets: readonly string[];
  groups: Readonly<Record<string, readonly string[]>>;
}

/**
 * Parses the text after `/rollback`. Pure and total: every input, however hostile, gets an answer.
 *
 *   help | list | status | history [target] | freeze <target> <reason…> | unfreeze <target> <reason…>
 *   | <target> [reason…] | <target> to v<N> [reason…] | <target or group>… [reason…]
 *
 * With `names`, the leading words that name targets or groups are the targets and the rest is the reason;
 * without, only the first word is a target.
 */
export function parseCommand(raw: string, names?: KnownNames): Command {
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

  const many = names ? parseMany(words, names) : undefined;
  if (many) return many;

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

/** Several leading target or group names; undefined when the words name one target (the single-target path). */
function parseMany(words: readonly string[], names: KnownNames): Command | undefined {
  const used = words.findIndex((word) => !isName(word.toLowerCase(), names));
  const leading = words.slice(0, used === -1 ? words.length : used).map((word) => word.toLowerCase());
  const groups = leading.filter((name) => Object.hasOwn(names.groups, name));
  const targets = [
    ...new Set(leading.flatMap((name) => (Object.hasOwn(names.groups, name) ? (names.groups[name] ?? []) : [name]))),
  ];
  if (groups.length === 0 && targets.length <= 1) return undefined;
  const rest = words.slice(leading.length);
  if (rest[0]?.toLowerCase() === 'to') {
    return {
      kind: 'invalid',
      message: `"to v<N>" names one target's version: \`/rollback ${targets[0]} to v41 [reason]\`. For several targets, leave it out: each goes back to its previous version.`,
    };
  }
  const reason = rest.join(' ');
  if (reason.length > MAX_REASON_LENGTH) return reasonTooLong(reason);
  const name = new Set(leading).size === 1 && groups[0] !== undefined ? groups[0] : targets.join(' + ');
  return { kind: 'rollback-many', name, targets, reason };
}

function isName(word: string, names: KnownNames): boolean {
  return names.targets.includes(word) || Object.hasOwn(names.groups, word);
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
