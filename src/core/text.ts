/**
 * What the core says to people, without saying it in Slack or in a terminal: words, and typed references
 * that each front end renders its own way. A person becomes a Slack mention or a plain name; a suggested
 * command becomes `/rollback cdn to v42` in Slack and `rapid-rollback rollback cdn --to v42` in a terminal.
 *
 * Every string part is literal text: whatever a person or a provider wrote lands in a string part, and every
 * renderer escapes string parts for where they go, so it can never become markup there.
 */

/** Something to run next, in the front end's own syntax. */
export type Suggestion =
  /** A fresh plan for the target. */
  | { action: 'plan'; target: string }
  /** A rollback to a version named explicitly. */
  | { action: 'rollback-to'; target: string; version: string }
  | { action: 'status' }
  | { action: 'history'; target?: string | undefined }
  /** Run an approved rollback that waits for a worker, from a terminal (the break-glass CLI only). */
  | { action: 'resume'; requestId: string }
  /** Ask for a freeze to end (it needs an approver). */
  | { action: 'unfreeze'; target: string }
  /** Freeze a target by hand. */
  | { action: 'freeze'; target: string };

export type Ref =
  /** A Slack user ID (`U…`), or a name from elsewhere (`cli:alice`). */
  | { ref: 'person'; id: string }
  /** A Slack user group (`S…`). */
  | { ref: 'group'; id: string }
  | { ref: 'channel'; id: string }
  | { ref: 'command'; command: Suggestion };

type Part = string | Ref;

/** Words and references; JSON as it is (the incident record keeps it in Redis). */
export interface Text {
  readonly parts: readonly Part[];
}

type Value = string | number | Ref | Text | undefined;

function isText(value: unknown): value is Text {
  return typeof value === 'object' && value !== null && Array.isArray((value as Text).parts);
}

function isRef(value: unknown): value is Ref {
  return typeof value === 'object' && value !== null && 'ref' in value;
}

/** Builds a Text: text`approved by ${person(id)}: ${reason}`. Strings and numbers are literal text. */
export function text(strings: TemplateStringsArray, ...values: Value[]): Text {
  const parts: Part[] = [];
  const push = (part: Part) => {
    const last = parts.at(-1);
    if (typeof part === 'string' && typeof last === 'string') parts[parts.length - 1] = last + part;
    else if (part !== '') parts.push(part);
  };
  strings.forEach((literal, i) => {
    push(literal);
    if (i >= values.length) return;
    const value = values[i];
    if (value === undefined) return;
    if (isText(value)) for (const part of value.parts) push(part);
    else if (isRef(value)) push(value);
    else push(String(value));
  });
  return { parts };
}

/** A Text of one literal string. */
export function literal(words: string): Text {
  return { parts: [words] };
}

/** Joins texts with a literal separator. */
export function join(texts: readonly Text[], separator: string): Text {
  return text`${texts.reduce<Text>((all, t, i) => (i === 0 ? t : text`${all}${separator}${t}`), { parts: [] })}`;
}

export const person = (id: string | undefined): Ref | string => (id ? { ref: 'person', id } : 'someone');
export const group = (id: string): Ref => ({ ref: 'group', id });
export const channel = (id: string): Ref => ({ ref: 'channel', id });
export const command = (suggestion: Suggestion): Ref => ({ ref: 'command', command: suggestion });

/** How one front end writes each kind of reference; string parts go through `literal`. */
export interface TextRenderer {
  literal(words: string): string;
  person(id: string): string;
  group(id: string): string;
  channel(id: string): string;
  command(suggestion: Suggestion): string;
}

export function render(value: Text | string, renderer: TextRenderer): string {
  if (typeof value === 'string') return renderer.literal(value);
  return value.parts
    .map((part) => {
      if (typeof part === 'string') return renderer.literal(part);
      switch (part.ref) {
        case 'person':
          return renderer.person(part.id);
        case 'group':
          return renderer.group(part.id);
        case 'channel':
          return renderer.channel(part.id);
        case 'command':
          return renderer.command(part.command);
      }
      return '';
    })
    .join('');
}

/** Neutral words for logs and Error.message: ids as they are, commands by name. */
const PLAIN: TextRenderer = {
  literal: (words) => words,
  person: (id) => id,
  group: (id) => `@${id}`,
  channel: (id) => `#${id}`,
  command: (s) => {
    switch (s.action) {
      case 'plan':
        return `\`rollback ${s.target}\``;
      case 'rollback-to':
        return `\`rollback ${s.target} to ${s.version}\``;
      case 'status':
        return '`status`';
      case 'history':
        return `\`history${s.target ? ` ${s.target}` : ''}\``;
      case 'resume':
        return `\`rapid-rollback resume ${s.requestId}\``;
      case 'unfreeze':
        return `\`unfreeze ${s.target} <reason>\``;
      case 'freeze':
        return `\`freeze ${s.target} <reason>\``;
    }
  },
};

export function plainText(value: Text | string): string {
  return render(value, PLAIN);
}
