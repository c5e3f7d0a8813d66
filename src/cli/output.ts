import { toRollbackError } from '../core/errors.js';

/**
 * The core's messages, written for Slack, made readable in a terminal: `<@U1>` → `@U1`,
 * `<!subteam^S1>` → `@S1`, `<#C1|ops>` → `#ops`, `<url|text>` → `text (url)`, and the slash
 * commands they suggest as the CLI's own (`/rollback cdn to v42` → `rapid-rollback rollback cdn --to v42`).
 */
export function plain(text: string): string {
  return text
    .replace(/`\/rollback ([a-z0-9][\w.-]*) to (v?\d+)[^`]*`/g, '`rapid-rollback rollback $1 --to $2`')
    .replace(/`\/rollback (status|list|history)([^`]*)`/g, (_, word: string, rest: string) => `\`rapid-rollback ${word === 'list' ? 'status' : word}${rest}\``)
    .replace(/`\/rollback ([^`\s]+)[^`]*`/g, '`rapid-rollback plan $1`')
    .replace(/<@([^>|]+)(?:\|([^>]+))?>/g, (_, id: string, label?: string) => `@${label ?? id}`)
    .replace(/<!subteam\^([^>|]+)(?:\|([^>]+))?>/g, (_, id: string, label?: string) => label ?? `@${id}`)
    .replace(/<#([^>|]+)(?:\|([^>]+))?>/g, (_, id: string, name?: string) => `#${name ?? id}`)
    .replace(/<(https?:[^>|]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export interface Writer {
  write(text: string): unknown;
}

/**
 * Results go to stdout: text for people, or with --json one JSON document and nothing else.
 * Warnings and errors go to stderr; pino's logs go there too.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: Writer = process.stdout,
    private readonly stderr: Writer = process.stderr,
  ) {}

  /** A line of the human result; nothing in --json mode. */
  line(text = ''): void {
    if (!this.json) this.stdout.write(`${plain(text)}\n`);
  }

  /** Text printed exactly as it is (a document to paste); nothing in --json mode. */
  raw(text: string): void {
    if (!this.json) this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The one JSON document of a --json run; nothing in human mode. */
  document(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** For people in both modes, on stderr. */
  note(text: string): void {
    this.stderr.write(`${plain(text)}\n`);
  }

  /** An error as a person reads it (stderr), or as a script reads it (the JSON document on stdout). */
  error(error: unknown, exitCode: number, context?: string): void {
    const coded = toRollbackError(error);
    const prefix = context ? `${context}: ` : '';
    if (this.json) {
      this.document({ ok: false, exitCode, error: { code: coded.code, message: plain(prefix + coded.message), hint: coded.hint === undefined ? undefined : plain(coded.hint) } });
    }
    this.note(`❌ ${prefix}${coded.toUserText()}`);
  }
}
