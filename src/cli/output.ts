import { toRollbackError } from '../core/errors.js';
import { terminalText } from './render-text.js';

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
    if (!this.json) this.stdout.write(`${forTerminal(text)}\n`);
  }

  /** A document to paste (the incident record), printed as it is but for control characters; nothing in --json mode. */
  raw(text: string): void {
    const printable = forTerminal(text);
    if (!this.json) this.stdout.write(printable.endsWith('\n') ? printable : `${printable}\n`);
  }

  /** The one JSON document of a --json run; nothing in human mode. */
  document(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** For people in both modes, on stderr. */
  note(text: string): void {
    this.stderr.write(`${forTerminal(text)}\n`);
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
          message: prefix + terminalText(coded.text),
          hint: coded.hintText === undefined ? undefined : terminalText(coded.hintText),
        },
      });
    }
    this.note(`❌ ${prefix}${terminalText(coded.userText())}`);
  }
}
