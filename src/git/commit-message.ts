import type { VersionInfo } from '../core/types.js';
import { oneLine, short } from './message-text.js';

/**
 * The revert commit's message: what was rolled back, by which request, and the commits it undoes. Its
 * `Rollback-Request:` trailer is how a later run for the same request knows the pushed branch is its own.
 */
export function commitMessage(m: {
  target: string;
  requestId: string;
  from: VersionInfo;
  to: VersionInfo;
  good: string;
  bad: string | undefined;
  base: string;
  undone: Array<{ sha: string; subject: string }>;
}): string {
  const n = m.undone.length;
  const list = m.undone.map((c) => `- ${short(c.sha)} ${oneLine(c.subject)}`).join('\n');
  const to = oneLine(m.to.label);
  const from = oneLine(m.from.label);
  return [
    `Revert ${m.target} to ${to} (rollback ${m.requestId})`,
    '',
    `${m.target} was rolled back from ${from}${m.bad ? ` (${m.bad})` : ''} to ${to} by rapid-rollback request ${m.requestId}.`,
    `Undoes ${n} commit${n === 1 ? '' : 's'} made on ${m.base} after ${to} (${short(m.good)}), so that the`,
    `files are again those deployed:`,
    '',
    list,
    '',
    `Rollback-Request: ${m.requestId}`,
    `Rollback-Target: ${m.target}`,
    `Rollback-From: ${from}`,
    `Rollback-To: ${to}`,
  ].join('\n');
}

/** A commit is "ours" when it carries this request's trailer. */
export function isForRequest(message: string, requestId: string): boolean {
  return message.split('\n').some((line) => line.trim() === `Rollback-Request: ${requestId}`);
}
