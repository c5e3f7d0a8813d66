import { literal, plainText, type Text, text } from './text.js';

/**
 * The catalogue of errors a person may read. One code, one class; every message says what happened
 * and what to do next, in words fit for a Slack thread at 3 a.m. (never a stack trace).
 *
 * `retryable` tells callers (the provider clients, the worker) whether trying the same call again
 * can help. Rollback activations are not idempotent, so the worker never retries a job blindly:
 * it re-reads the live state instead (see core/executor.ts).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'COMMAND_INVALID'
  | 'TARGET_UNKNOWN'
  | 'VERSION_UNKNOWN'
  | 'VERSION_NOT_RESTORABLE'
  | 'NOTHING_TO_ROLL_BACK'
  | 'UNDO_REFUSED'
  | 'REQUEST_UNKNOWN'
  | 'REQUEST_EXPIRED'
  | 'REQUEST_CLOSED'
  | 'NOT_AUTHORIZED'
  | 'SELF_APPROVAL'
  /** A break-glass self-approval without the target's name typed, or with another name. */
  | 'BREAK_GLASS_UNCONFIRMED'
  | 'TARGET_LOCKED'
  | 'PLAN_STALE'
  | 'TARGET_MISMATCH'
  | 'OUTCOME_UNKNOWN'
  | 'WORKERS_STOPPED'
  | 'TARGET_FROZEN'
  | 'NOT_FROZEN'
  | 'COMMIT_UNKNOWN'
  | 'PROVIDER_AUTH'
  | 'PROVIDER_NOT_FOUND'
  | 'PROVIDER_RATE_LIMITED'
  | 'PROVIDER_UNAVAILABLE'
  | 'PROVIDER_TIMEOUT'
  | 'PROVIDER_REJECTED'
  | 'VERIFY_FAILED'
  | 'GIT_FAILED'
  | 'QUEUE_UNAVAILABLE'
  | 'SLACK_CHANNEL_UNREACHABLE';

export interface RollbackErrorOptions {
  /** What a person should do next; shown under the message. */
  hint?: string | Text | undefined;
  /** True when the same call may succeed if tried again later. */
  retryable?: boolean;
  cause?: unknown;
  /** Extra structured facts for logs (never tokens). */
  details?: Record<string, unknown>;
}

export class RollbackError extends Error {
  readonly code: ErrorCode;
  /** What happened, with its references (people, channels, commands) for each front end to render. */
  readonly text: Text;
  readonly hintText: Text | undefined;
  /** The hint in plain words (logs, JSON). */
  readonly hint: string | undefined;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string | Text, options: RollbackErrorOptions = {}) {
    super(plainText(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RollbackError';
    this.code = code;
    this.text = typeof message === 'string' ? literal(message) : message;
    this.hintText = typeof options.hint === 'string' ? literal(options.hint) : options.hint;
    this.hint = options.hint === undefined ? undefined : plainText(options.hint);
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }

  /** The message and the hint, as one text for a person (each front end renders it). */
  userText(): Text {
    return this.hintText ? text`${this.text}\n${this.hintText}` : this.text;
  }

  /** The same in plain words, for logs. */
  toUserText(): string {
    return plainText(this.userText());
  }
}

export function isRollbackError(error: unknown): error is RollbackError {
  return error instanceof RollbackError;
}

/** Turns anything thrown into something a person can read, keeping coded errors as they are. */
export function toRollbackError(error: unknown, fallbackCode: ErrorCode = 'PROVIDER_UNAVAILABLE'): RollbackError {
  if (isRollbackError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RollbackError(fallbackCode, message, { cause: error });
}
