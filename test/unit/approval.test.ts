import { describe, expect, it } from 'vitest';
import { type ApproverDirectory, approvalScopes, checkApproverFor, checkCanceller } from '../../src/core/approval.js';
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
  const file = { approvers: ['UAPP', 'S0SRE', 'UREQ'], allowSelfApproval: false };
  const rules = approvalScopes(file, [{ name: 'cdn' }]);
  const checkApprover = checkApproverFor;

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
      await codeOf(checkApprover(request, 'UREQ', approvalScopes({ ...file, allowSelfApproval: true }, []), directory)),
    ).toBeUndefined();
  });

  it('lets the requester or an approver cancel, nobody else', async () => {
    expect(await codeOf(checkCanceller(request, 'UREQ', rules, directory))).toBeUndefined();
    expect(await codeOf(checkCanceller(request, 'UGRP', rules, directory))).toBeUndefined();
    expect(await codeOf(checkCanceller(request, 'UOTHER', rules, directory))).toBe('NOT_AUTHORIZED');
  });
});

describe('approval rules per target and group', () => {
  const file = { approvers: ['UAPP', 'S0SRE'], allowSelfApproval: false };
  const targets = [
    { name: 'cdn' },
    { name: 'api', approval: { approvers: ['S0PAY', 'UPAY'] } },
    { name: 'web', approval: { allowSelfApproval: true } },
  ];
  const refusal = async (promise: Promise<unknown>) => {
    const error = (await promise.then(
      () => undefined,
      (e: unknown) => e,
    )) as RollbackError;
    return { code: error.code, message: error.message, hint: renderText(error.hintText ?? '') };
  };

  it("a target's own list replaces the file's: an approver of cdn is refused for api and told who can", async () => {
    const [cdn, api] = approvalScopes(file, targets);
    expect(await codeOf(checkApproverFor(request, 'UAPP', [cdn!], directory))).toBeUndefined();
    expect(await refusal(checkApproverFor(request, 'UAPP', [api!], directory))).toEqual({
      code: 'NOT_AUTHORIZED',
      message: 'You are not an approver for api.',
      hint: 'Approvers for api: <!subteam^S0PAY>, <@UPAY>. Nothing was queued.',
    });
    expect(await codeOf(checkApproverFor(request, 'UPAY', [api!], directory))).toBeUndefined();
  });

  it('a request on several targets needs someone allowed on every one, and the group', async () => {
    const both = approvalScopes(file, targets.slice(0, 2));
    expect((await refusal(checkApproverFor(request, 'UPAY', both, directory))).message).toBe(
      'You are not an approver for rollbacks.',
    );
    expect((await refusal(checkApproverFor(request, 'UAPP', both, directory))).message).toBe(
      'You are not an approver for api.',
    );
    const everyone = { approvers: ['UAPP', 'UPAY'], allowSelfApproval: false };
    const grouped = approvalScopes(everyone, [{ name: 'cdn' }, { name: 'api' }], {
      name: 'checkout',
      approvers: ['UPAY'],
    });
    expect((await refusal(checkApproverFor(request, 'UAPP', grouped, directory))).hint).toBe(
      'Approvers for checkout: <@UPAY>. Nothing was queued.',
    );
    expect(await codeOf(checkApproverFor(request, 'UPAY', grouped, directory))).toBeUndefined();
  });

  it('allowSelfApproval per target: the requester may approve web alone, not web with cdn', async () => {
    const requester = { requester: 'UAPP' } as RollbackRequest;
    const [cdn, , web] = approvalScopes(file, targets);
    expect(await codeOf(checkApproverFor(requester, 'UAPP', [web!], directory))).toBeUndefined();
    expect(await codeOf(checkApproverFor(requester, 'UAPP', [web!, cdn!], directory))).toBe('SELF_APPROVAL');
  });

  it("cancelling needs an approver of every target: cdn's approver may not cancel an api request", async () => {
    const api = approvalScopes(file, targets.slice(1, 2));
    expect(await codeOf(checkCanceller(request, 'UAPP', api, directory))).toBe('NOT_AUTHORIZED');
    expect(await codeOf(checkCanceller(request, 'UPAY', api, directory))).toBeUndefined();
  });
});
