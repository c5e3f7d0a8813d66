import { userInfo } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { MAX_REASON_LENGTH } from '../core/names.js';
import { REQUEST_ID } from '../core/request.js';

/** `--to v41` or `--to 41`, as `/rollback cdn to v41` reads it. */
export function parseVersion(value: string): string {
  const match = /^v?(\d{1,9})$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError('Name a version like v41 (or a Helm/Deployment revision like 7).');
  return String(Number(match[1]));
}

export function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('Use a whole number from 1 to 100.');
  return n;
}

export function parseReason(value: string): string {
  const reason = value.trim();
  if (reason === '') throw new InvalidArgumentError('Say why, e.g. --reason "elevated 5xx after deploy".');
  if (reason.length > MAX_REASON_LENGTH)
    throw new InvalidArgumentError(`keep it under ${MAX_REASON_LENGTH} characters (link the incident instead).`);
  return reason;
}

/** A Slack user ID (U…/W…) or any other name without spaces; it is what the record will show. */
export function parsePerson(value: string): string {
  const person = value.trim();
  if (!/^[\w.:@-]{1,64}$/.test(person))
    throw new InvalidArgumentError('Use a Slack user ID such as U0123APPROVER (no spaces).');
  return person;
}

export function parseRequestId(value: string): string {
  if (!REQUEST_ID.test(value.trim()))
    throw new InvalidArgumentError(
      'Use a request id such as rb-mwr6wjds-tfq20d (`rapid-rollback history` lists them).',
    );
  return value.trim();
}

/** Who asked, when --requested-by is not given: the person at the terminal. */
export function defaultRequester(env: NodeJS.ProcessEnv): string {
  let name = env.USER ?? env.USERNAME;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = 'unknown';
    }
  }
  return `cli:${name}`;
}
