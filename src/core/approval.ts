import type { Rules, TargetConfig } from './config-types.js';
import { RollbackError } from './errors.js';
import type { RollbackRequest } from './request.js';
import { group, join, person, type Text, text } from './text.js';

export interface ApprovalRules {
  approvers: readonly string[];
  allowSelfApproval: boolean;
  /** After this long with no approver acting, the requester may approve (break-glass.ts); unset: never. */
  selfApprovalAfterMs?: number | undefined;
}

/**
 * Who may approve on one target (or one group): its own list when it has one, else the file's. A request is
 * approved only by someone every one of its scopes allows.
 */
export interface ApprovalScope extends ApprovalRules {
  /** The target or group it is for, as a refusal names it. */
  name: string;
  /** True when `approvers` is the target's (group's) own list, not rollback.yml's top-level one. */
  own: boolean;
}

/**
 * The approval rules for a request on `targets`: one scope per target (its own `approvers` and
 * `allowSelfApproval`, else the file's), and the group's when the request names a group that lists approvers.
 * For a multi-target (batch) request pass every target in it; checkApproverFor then asks for someone allowed
 * on all of them.
 */
export function approvalScopes(
  rules: RulesForScopes,
  targets: readonly Pick<TargetConfig, 'name' | 'approval'>[],
  group?: {
    name: string;
    approvers?: readonly string[] | undefined;
    allowSelfApproval?: boolean | undefined;
  },
): ApprovalScope[] {
  const scopes: ApprovalScope[] = targets.map((target) => ({
    name: target.name,
    approvers: target.approval?.approvers ?? rules.approvers,
    own: target.approval?.approvers !== undefined,
    allowSelfApproval: target.approval?.allowSelfApproval ?? rules.allowSelfApproval,
    ...selfApprovalAfter(target.approval?.selfApprovalAfterMs, rules),
  }));
  if (group?.approvers)
    scopes.push({
      name: group.name,
      approvers: group.approvers,
      own: true,
      allowSelfApproval: group.allowSelfApproval ?? rules.allowSelfApproval,
    });
  return scopes;
}

type RulesForScopes = Pick<Rules, 'approvers' | 'allowSelfApproval' | 'selfApprovalAfterMs'>;

/** A target's own selfApprovalAfter, `false` when it turns the file's off, else the file's. */
function selfApprovalAfter(own: number | false | undefined, rules: RulesForScopes): { selfApprovalAfterMs?: number } {
  const ms = own === undefined ? rules.selfApprovalAfterMs : own;
  return typeof ms === 'number' ? { selfApprovalAfterMs: ms } : {};
}

/** The scopes of the targets named `names` among `targets` (a name not configured has none). */
export function scopesOf(
  rules: RulesForScopes,
  targets: readonly Pick<TargetConfig, 'name' | 'approval'>[],
  names: readonly string[],
): ApprovalScope[] {
  return approvalScopes(
    rules,
    targets.filter((target) => names.includes(target.name)),
  );
}

/**
 * Throws the refusal a clicker will read unless `userId` may approve under every scope (approvalScopes): a
 * listed approver of each (directly or through a user group), and not the requester unless each scope allows
 * self-approval. The refusal names the first scope that refuses and who may approve there. The rollback,
 * its follow-ups, unfreezes and multi-target (batch) requests all use it.
 */
export async function checkApproverFor(
  request: Pick<RollbackRequest, 'requester'>,
  userId: string,
  scopes: readonly ApprovalScope[],
  directory: ApproverDirectory,
  what = 'rollback',
): Promise<void> {
  for (const scope of scopes) {
    if (userId === request.requester && !scope.allowSelfApproval) {
      throw new RollbackError('SELF_APPROVAL', `You asked for this ${what}, so someone else must approve it.`, {
        hint: text`Ask one of: ${describeApprovers(scope.approvers)}.`,
      });
    }
  }
  for (const scope of scopes) {
    if (await directory.isApprover(userId, scope.approvers)) continue;
    if (!scope.own)
      throw new RollbackError('NOT_AUTHORIZED', `You are not an approver for ${what}s.`, {
        hint: text`Approvers: ${describeApprovers(scope.approvers)}. Nothing was queued.`,
      });
    throw new RollbackError('NOT_AUTHORIZED', `You are not an approver for ${scope.name}.`, {
      hint: text`Approvers for ${scope.name}: ${describeApprovers(scope.approvers)}. Nothing was queued.`,
    });
  }
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

/** The requester and anyone who could approve (every scope lists them) may cancel; anyone else may not. */
export async function checkCanceller(
  request: Pick<RollbackRequest, 'requester'>,
  userId: string,
  scopes: readonly ApprovalScope[],
  directory: ApproverDirectory,
  what = 'rollback',
): Promise<void> {
  if (userId === request.requester) return;
  let refusing: ApprovalScope | undefined;
  for (const scope of scopes) {
    if (!(await directory.isApprover(userId, scope.approvers))) {
      refusing = scope;
      break;
    }
  }
  if (!refusing) return;
  throw new RollbackError('NOT_AUTHORIZED', `Only the requester or an approver can cancel this ${what}.`, {
    hint: text`The request stays open for ${person(request.requester)} and ${describeApprovers(refusing.approvers)}.`,
  });
}
