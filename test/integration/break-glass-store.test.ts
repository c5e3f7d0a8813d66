/** A break-glass approval is kept on the request by the same atomic approval, and forgotten with it. Real Redis. */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RollbackRequest } from '../../src/core/request.js';
import { RedisRequestStore } from '../../src/store/redis-request-store.js';
import { REDIS_URL } from '../support/harness.js';
import { deleteKeys } from '../support/redis-keys.js';

const redis = new Redis(REDIS_URL);
const prefix = `rrbg-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const store = new RedisRequestStore(redis, { prefix });
afterEach(() => deleteKeys(redis, prefix));
afterAll(() => redis.disconnect());

function request(id: string, now: number): RollbackRequest {
  return {
    id,
    target: 'cdn',
    plan: {
      target: 'cdn',
      kind: 'fastly',
      resource: 'Fastly service cdn',
      from: { id: '42', label: 'v42' },
      to: { id: '41', label: 'v41' },
      selection: 'history',
      notes: [],
      steps: ['Activate v41'],
      budgetMs: 60_000,
      actionDone: 'v41 active',
    },
    reason: 'elevated 5xx',
    requester: 'UREQ',
    origin: { channel: 'COPS' },
    createdAt: now,
    expiresAt: now + 60_000,
    state: 'pending',
  };
}

describe('break-glass in the request store', () => {
  it('keeps who was bypassed with the approval, and drops it when the approval is undone', async () => {
    const now = Date.now();
    const id = `rb-${now.toString(36)}-bglass`;
    await store.create(request(id, now));
    const breakGlass = { afterMs: 600_000, approvers: ['UAPP', 'S0SRE'] };
    const approved = await store.approve(id, 'UREQ', now, breakGlass);
    expect(approved).toMatchObject({ ok: true, request: { state: 'approved', approver: 'UREQ', breakGlass } });
    // The queue could not take the job: the request is open again, and an approver's approval is an ordinary one.
    await store.unapprove(id);
    expect((await store.get(id))?.breakGlass).toBeUndefined();
    const again = await store.approve(id, 'UAPP', now);
    expect(again).toMatchObject({ ok: true, request: { approver: 'UAPP' } });
    expect(again.ok && again.request.breakGlass).toBeUndefined();
  });
});
