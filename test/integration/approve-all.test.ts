/**
 * One approval for several targets (issue 14): every request approved and every target locked, or nothing.
 * On the real Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RollbackRequest } from '../../src/core/request.js';
import type { Plan } from '../../src/core/types.js';
import { RedisRequestStore } from '../../src/store/redis-request-store.js';
import { REDIS_URL } from '../support/harness.js';
import { deleteKeys } from '../support/redis-keys.js';

const redis = new Redis(REDIS_URL);
const prefix = `rrall-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const store = new RedisRequestStore(redis, { prefix });
afterEach(() => deleteKeys(redis, prefix));
afterAll(() => redis.disconnect());

let serial = 0;
async function pending(target: string, expiresInMs = 60_000): Promise<RollbackRequest> {
  const now = Date.now();
  serial += 1;
  const plan: Plan = {
    target,
    kind: 'fastly',
    resource: `Fastly service ${target}`,
    from: { id: '42', label: 'v42' },
    to: { id: '41', label: 'v41' },
    selection: 'history',
    notes: [],
    steps: ['Activate v41'],
    budgetMs: 60_000,
    actionDone: 'v41 active',
  };
  const request: RollbackRequest = {
    id: `rb-${now.toString(36)}-all${String(serial).padStart(3, '0')}`,
    target,
    plan,
    reason: 'checkout is down',
    requester: 'UREQ',
    origin: { channel: 'COPS' },
    createdAt: now,
    expiresAt: now + expiresInMs,
    state: 'pending',
  };
  await store.create(request);
  return request;
}

describe('approveAll', () => {
  it('approves every request and locks every target at once', async () => {
    const [cdn, api] = [await pending('cdn'), await pending('api')];
    const result = await store.approveAll([cdn.id, api.id], 'UAPP', Date.now());
    expect(result.ok && result.requests.map((r) => [r.target, r.state, r.approver])).toEqual([
      ['cdn', 'approved', 'UAPP'],
      ['api', 'approved', 'UAPP'],
    ]);
    expect([await store.lockHolder('cdn'), await store.lockHolder('api')]).toEqual([cdn.id, api.id]);
  });

  it('changes nothing when one target is locked by another rollback, and names it and the holder', async () => {
    const other = await pending('api');
    expect((await store.approve(other.id, 'UAPP', Date.now())).ok).toBe(true);
    const [cdn, api] = [await pending('cdn'), await pending('api')];
    const result = await store.approveAll([cdn.id, api.id], 'UAPP', Date.now());
    expect(result).toMatchObject({ ok: false, id: api.id, refusal: { reason: 'locked', holder: other.id } });
    expect((await store.get(cdn.id))?.state).toBe('pending');
    expect(await store.lockHolder('cdn')).toBeUndefined();
  });

  it('changes nothing when one request expired or was cancelled, and says which', async () => {
    const [cdn, api] = [await pending('cdn'), await pending('api', -1)];
    const expired = await store.approveAll([cdn.id, api.id], 'UAPP', Date.now());
    expect(expired).toMatchObject({ ok: false, id: api.id, refusal: { reason: 'expired' } });
    expect((await store.get(cdn.id))?.state).toBe('pending');
    expect(await store.lockHolder('cdn')).toBeUndefined();

    const web = await pending('web');
    await store.close(cdn.id, 'cancelled', 'UREQ', Date.now());
    const closed = await store.approveAll([web.id, cdn.id], 'UAPP', Date.now());
    expect(closed).toMatchObject({ ok: false, id: cdn.id, refusal: { reason: 'closed' } });
    expect(await store.lockHolder('web')).toBeUndefined();
  });

  it('refuses two requests for one target (they would share its lock)', async () => {
    const [a, b] = [await pending('cdn'), await pending('cdn')];
    await expect(store.approveAll([a.id, b.id], 'UAPP', Date.now())).rejects.toThrow(/same target/);
    expect(await store.lockHolder('cdn')).toBeUndefined();
  });
});
