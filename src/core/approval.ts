import { RollbackError } from './errors.js';
import type { RollbackRequest } from './request.js';
import { group, join, person, type Text, text } from './text.js';

export interface ApprovalRules {
  approvers: readonly string[];
  allowSelfApproval: boolean;
}

/** Answers whether a user may approve: listed directly, or a member of a listed user group. */
export interface ApproverDirectory {
  isApprover(userId: string, approvers: readonly string[]): Promise<boolean>;
}

/** The approvers as references: user groups (`S…`) and people; each front end writes them its way. */
export function describeApprovers(approvers: readonly string[]): Text {
  return join(
    approvers.map((id) => (id.startsWith('S') ? text`${group(id)}` : text`${person(id)}`)),
    ', ',
  );
}

/** Throws the refusal a clicker will read, or returns when they may approve. */
export async function checkApprover(
  request: Pick<RollbackRequest, 'requester'>,
  userId: string,
  rules: ApprovalRules,
  directory: ApproverDirectory,
  what = 'rollback',
): Promise<void> {
  if (userId === request.requester && !rules.allowSelfApproval) {
    throw new RollbackError('SELF_APPROVAL', `You asked for this ${what}, so someone else must approve it.`, {
      hint: text`Ask one of: ${describeApprovers(rules.approvers)}.`,
    });
  }
  if (!(await directory.isApprover(userId, rules.approvers))) {
    throw new RollbackError('NOT_AUTHORIZED', `You are not an approver for ${what}s.`, {
      hint: text`Approvers: ${describeApprovers(rules.approvers)}. Nothing was queued.`,
    });
  }
}

/** The requester and approvers may cancel; anyone else may not. */
export async function checkCanceller(
  request: Pick<RollbackRequest, 'requester'>,
  userId: string,
  rules: ApprovalRules,
  directory: ApproverDirectory,
  what = 'rollback',
): Promise<void> {
  if (userId === request.requester) return;
  if (await directory.isApprover(userId, rules.approvers)) return;
  throw new RollbackError('NOT_AUTHORIZED', `Only the requester or an approver can cancel this ${what}.`, {
    hint: text`The request stays open for ${person(request.requester)} and ${describeApprovers(rules.approvers)}.`,
  });
}
