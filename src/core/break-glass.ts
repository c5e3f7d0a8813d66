import type { ApprovalScope } from './approval.js';
import { describeApprovers } from './approval.js';
import { formatDuration, utcTime } from './duration.js';
import { RollbackError } from './errors.js';

import type { BreakGlass, RollbackRequest } from './request.js';
import { person, type Text, text } from './text.js';

/** What the requester typed to confirm a break-glass approval: the target's name. */
export interface BreakGlassConfirmation {
  targetName: string;
}

/** "10 min", "90 s": the setting as people say it. */
function waitWords(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1_000)} s` : formatDuration(ms);
}

/** The words the notice, the thread and the incident record use: "self-approved after 10 min without an approver (break-glass)". */
export function breakGlassWords(breakGlass: Pick<BreakGlass, 'afterMs'>): string {
  return `self-approved after ${waitWords(breakGlass.afterMs)} without an approver (break-glass)`;
}

/** The scopes that forbid self-approval, the wait they allow it after (the longest), or undefined when one never does. */
function breakGlassWait(scopes: readonly ApprovalScope[]): { afterMs: number; bypassed: ApprovalScope[] } | undefined {
  const bypassed = scopes.filter((scope) => !scope.allowSelfApproval);
  if (bypassed.length === 0) return undefined;
  let afterMs = 0;
  for (const scope of bypassed) {
    if (scope.selfApprovalAfterMs === undefined) return undefined;
    afterMs = Math.max(afterMs, scope.selfApprovalAfterMs);
  }
  return { afterMs, bypassed };
}

export type BreakGlassDecision =
  /** The usual approval rules decide (checkApproverFor): not the requester, or self-approval needs no break-glass. */
  | { kind: 'usual' }
  /** The requester approves their own request; `scopes` (those that allow self-approval) still check they are listed. */
  | { kind: 'break-glass'; breakGlass: BreakGlass; scopes: ApprovalScope[] };

/**
 * Whether `user` approving `request` is a break-glass approval, or a refusal that says when it will be. The
 * requester of a request no approver has acted on (it is still pending) for `selfApprovalAfter` may approve it
 * with `confirmation`, the target's name typed; before that they get the self-approval refusal with the time.
 * Anyone else approves the usual way: a confirmation from them is refused, so approvers have no bypass.
 */
export function decideBreakGlass(
  request: Pick<RollbackRequest, 'requester' | 'createdAt' | 'target'>,
  user: string,
  scopes: readonly ApprovalScope[],
  now: number,
  confirmation: BreakGlassConfirmation | undefined,
): BreakGlassDecision {
  if (user !== request.requester) {
    if (confirmation)
      throw new RollbackError('NOT_AUTHORIZED', 'Break-glass is only for the requester of a rollback.', {
        hint: 'Approvers approve it the usual way (Approve). Nothing was queued.',
      });
    return { kind: 'usual' };
  }
  const wait = breakGlassWait(scopes);
  if (!wait) {
    const refusing = scopes.find((scope) => !scope.allowSelfApproval);
    if (confirmation && refusing)
      throw new RollbackError('SELF_APPROVAL', `You asked for this rollback, so someone else must approve it.`, {
        hint: text`Break-glass (selfApprovalAfter) is off for ${refusing.name}. Ask one of: ${describeApprovers(refusing.approvers)}.`,
      });
    return { kind: 'usual' };
  }
  const from = request.createdAt + wait.afterMs;
  const approvers = [...new Set(wait.bypassed.flatMap((scope) => scope.approvers))];
  if (now < from)
    throw new RollbackError('SELF_APPROVAL', 'You asked for this rollback, so someone else must approve it.', {
      hint: text`Ask one of: ${describeApprovers(approvers)}. You may approve it yourself from ${utcTime(from)} if no approver has acted (break-glass).`,
      details: { breakGlassFrom: from },
    });
  const typed = confirmation?.targetName.trim();
  if (typed !== request.target)
    throw new RollbackError('BREAK_GLASS_UNCONFIRMED', unconfirmedText(request.target, typed), {
      hint: 'Nothing was queued.',
      details: { target: request.target, afterMs: wait.afterMs, approvers },
    });
  return {
    kind: 'break-glass',
    breakGlass: { afterMs: wait.afterMs, approvers },
    scopes: scopes.filter((scope) => scope.allowSelfApproval),
  };
}

function unconfirmedText(target: string, typed: string | undefined): Text {
  if (typed === undefined || typed === '')
    return text`No approver has acted on this rollback: you may approve it yourself (break-glass), confirming with the target's name, ${target}.`;
  return text`"${typed}" is not the target's name: type ${target} to approve this rollback yourself (break-glass).`;
}

/** The record's line for a break-glass approval: "@alice self-approved after 10 min without an approver (break-glass)". */
export function breakGlassApprovalText(user: string, breakGlass: BreakGlass): Text {
  return text`${person(user)} ${breakGlassWords(breakGlass)}; approvers ${describeApprovers(breakGlass.approvers)} had not acted`;
}
