import { type ErrorCode, isRollbackError } from '../core/errors.js';

/** What scripts can rely on; `rapid-rollback --help` and the README list the same. */
export const EXIT = {
  ok: 0,
  /** A rule refused it, the rollback failed or stopped, a doctor check failed. */
  refused: 1,
  /** The command line or the configuration is wrong: nothing was tried. */
  usage: 2,
  /** Redis (or a provider) did not answer: try again, or roll back by hand. */
  unreachable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A wrong name, version, flag, file or token: fixing the command or the config is the way out. */
const USAGE_CODES: readonly ErrorCode[] = [
  'CONFIG_INVALID',
  'COMMAND_INVALID',
  'TARGET_UNKNOWN',
  'VERSION_UNKNOWN',
  'REQUEST_UNKNOWN',
  'COMMIT_UNKNOWN',
  'PROVIDER_AUTH',
  'PROVIDER_NOT_FOUND',
];
/** Nobody answered: the same command may work later. (GIT_FAILED: the gate could not ask git.) */
const UNREACHABLE_CODES: readonly ErrorCode[] = [
  'QUEUE_UNAVAILABLE',
  'GIT_FAILED',
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_TIMEOUT',
  'PROVIDER_RATE_LIMITED',
];

export function exitCodeFor(error: unknown): ExitCode {
  if (!isRollbackError(error)) return EXIT.refused;
  if (USAGE_CODES.includes(error.code)) return EXIT.usage;
  if (UNREACHABLE_CODES.includes(error.code)) return EXIT.unreachable;
  return EXIT.refused;
}

export const EXIT_CODES_HELP = `Exit codes:
  0  done (doctor: every check passed; gate: deployable)
  1  refused or failed: a rule said no (approver, self-approval, lock, no-undo, already
     frozen, not frozen), the rollback failed or stopped on a stale plan, a doctor check
     failed, you said no; gate: the target is frozen for this deploy
  2  usage or configuration: unknown command, flag, target, version, commit or request id,
     rollback.yml or the environment is wrong, a provider refused its token
  3  unreachable: Redis, git (or a provider) did not answer; status: a target could not be
     read; try again or roll back by hand`;
