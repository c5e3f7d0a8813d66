import { describe, expect, it } from 'vitest';
import { type ApproverDirectory, checkApprover, checkCanceller } from '../../src/core/approval.js';
import { RollbackError } from '../../src/core/errors.js';
import type { RollbackRequest } from '../../src/core/request.js';
import { renderText } from '../../src/slack/render-text.js';

const request = { requester: 'UREQ' } as RollbackRequest;
const directory: ApproverDirectory = {
  // UGRP is in group S0SRE; UAPP is listed by id
  isApprover: async (user, approvers) => approvers.includes(user) || (approvers.includes('S0SRE') && user === 'UGRP'),
};

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return error instanceof RollbackError ? error.code : 'not-coded';
  }
  return undefined;
}

describe('approval rules', () => {
  const rules = { approvers: ['UAPP', 'S0SRE', 'UREQ'], allowSelfApproval: false };

  it('lets a listed approver and a group member approve', async () => {
    expect(await codeOf(checkApprover(request, 'UAPP', rules, directory))).toBeUndefined();
    expect(await codeOf(checkApprover(request, 'UGRP', rules, directory))).toBeUndefined();
  });

  it('refuses anyone else, naming who may approve', async () => {
    const error = await checkApprover(request, 'UOTHER', rules, directory).catch((e: RollbackError) => e);
    expect(error).toBeInstanceOf(RollbackError);
    expect((error as RollbackError).code).toBe('NOT_AUTHORIZED');
    expect(renderText((error as RollbackError).hintText ?? '')).toContain('<@UAPP>');
    expect(renderText((error as RollbackError).hintText ?? '')).toContain('<!subteam^S0SRE>');
  });

  it('refuses self-approval even from an approver, unless configured', async () => {
    expect(await codeOf(checkApprover(request, 'UREQ', rules, directory))).toBe('SELF_APPROVAL');
    expect(
      await codeOf(checkApprover(request, 'UREQ', { ...rules, allowSelfApproval: true }, directory)),
    ).toBeUndefined();
  });

  it('lets the requester or an approver cancel, nobody else', async () => {
    expect(await codeOf(checkCanceller(request, 'UREQ', rules, directory))).toBeUndefined();
    expect(await codeOf(checkCanceller(request, 'UGRP', rules, directory))).toBeUndefined();
    expect(await codeOf(checkCanceller(request, 'UOTHER', rules, directory))).toBe('NOT_AUTHORIZED');
  });
});
