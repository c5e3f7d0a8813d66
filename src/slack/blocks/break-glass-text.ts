import { describeApprovers } from '../../core/approval.js';
import { breakGlassWords } from '../../core/break-glass.js';
import { utcTime } from '../../core/duration.js';
import type { BreakGlass } from '../../core/request.js';
import { mention, renderText } from '../render-text.js';

/**
 * Who approved, as the notice says it. A break-glass approval says so and mentions the approvers who had not
 * acted, so that it is never silent: "self-approved after 10 min without an approver (break-glass) · approvers
 * @bob, @sre-oncall had not acted".
 */
export function approvalWords(facts: { approver?: string | undefined; breakGlass?: BreakGlass | undefined }): string {
  if (!facts.breakGlass) return `approved by ${mention(facts.approver)}`;
  const approvers = renderText(describeApprovers(facts.breakGlass.approvers));
  return `*${breakGlassWords(facts.breakGlass)}* · approvers ${approvers} had not acted`;
}

/** The request message's word on break-glass: from when its requester may approve it, if ever. */
export function selfApprovalNote(
  request: { createdAt: number },
  rules: { allowSelfApproval: boolean; selfApprovalAfterMs?: number | undefined },
): string {
  if (rules.allowSelfApproval) return '';
  if (rules.selfApprovalAfterMs === undefined) return ' (not the requester)';
  return ` (not the requester, unless none has acted by ${utcTime(request.createdAt + rules.selfApprovalAfterMs)}: break-glass)`;
}
