import { toRollbackError } from '../core/errors.js';

/** Escape sequences (CSI, OSC, and the two-character ones): a terminal would act on them, not show them. */
const ESCAPE_SEQUENCE = /\u001b(?:\[[0-?]*[ -/]*[@-~]?|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[ -~]?)/g;
/** Other control characters but newline and tab (carriage return, backspace, bell, C1), and bidi overrides. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from people and providers (a reason, a version comment, command output) made safe to print: no
 * escape sequence, carriage return or bell reaches the terminal; each other control character shows as �.
 */
export function forTerminal(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '\ufffd');
}

/** Slack text back to the characters people typed: entities, and the zero-width space that broke a ``` run. */
function unescaped(text: string): string {
  return text
    .replace(/(?<=``)\u200b`/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * The core's messages, written for Slack, made readable in a terminal: `<@U1>` → `@U1`,
 * `<!subteam^S1>` → `@S1`, `<#C1|ops>` → `#ops`, `<url|text>` → `text (url)`, and the slash
 * commands they suggest as the CLI's own (`/rollback cdn to v42` → `rapid-rollback rollback cdn --to v42`).
 * Text from people and providers is escaped in Slack text (`&lt;https://x|y&gt;`), so none of this turns it
 * into a link or a mention: it comes out as it was typed.
 */
export function plain(text: string): string {
  return text
    .replace(/`\/rollback ([a-z0-9][\w.-]*) to (v?\d+)[^`]*`/g, '`rapid-rollback rollback $1 --to $2`')
    .replace(
      /`\/rollback (status|list|history)([^`]*)`/g,
      (_, word: string, rest: string) => `\`rapid-rollback ${word === 'list' ? 'status' : word}${rest}\``,
    )
    .replace(/`\/rollback ([^`\s]+)[^`]*`/g, '`rapid-rollback plan $1`')
    .replace(/<@([^>|]+)(?:\|([^>]+))?>/g, (_, id: string, label?: string) => `@${label ?? id}`)
    .replace(/<!subteam\^([^>|]+)(?:\|([^>]+))?>/g, (_, id: string, label?: string) => label ?? `@${id}`)
    .replace(/<#([^>|]+)(?:\|([^>]+))?>/g, (_, id: string, name?: string) => `#${name ?? id}`)
    .replace(/<(https?:[^>|]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replace(/(?<=``)\u200b`/g, '`')
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
    if (!this.json) this.stdout.write(`${forTerminal(plain(text))}\n`);
  }

  /**
   * A document to paste (the incident record, Slack text), printed as it is but for the entities, turned
   * back into the characters people typed, and control characters; nothing in --json mode.
   */
  raw(text: string): void {
    const printable = forTerminal(unescaped(text));
    if (!this.json) this.stdout.write(printable.endsWith('\n') ? printable : `${printable}\n`);
  }

  /** The one JSON document of a --json run; nothing in human mode. */
  document(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** For people in both modes, on stderr. */
  note(text: string): void {
    this.stderr.write(`${forTerminal(plain(text))}\n`);
  }

  /** An error as a person reads it (stderr), or as a script reads it (the JSON document on stdout). */
  error(error: unknown, exitCode: number, context?: string): void {
    const coded = toRollbackError(error);
    const prefix = context ? `${context}: ` : '';
    if (this.json) {
      this.document({
        ok: false,
        exitCode,
        error: {
          code: coded.code,
          message: plain(prefix + coded.message),
          hint: coded.hint === undefined ? undefined : plain(coded.hint),
        },
      });
    }
    this.note(`❌ ${prefix}${coded.toUserText()}`);
  }
}
