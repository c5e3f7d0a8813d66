import type { Redis } from 'ioredis';
import { z } from 'zod';
import { batchRefSchema, followUpSchema, planSchema, rollbackRecordSchema, textSchema } from '../core/plan-schema.js';
import type {
  ApproveAllResult,
  ApproveResult,
  BreakGlass,
  CloseResult,
  MarkRunningResult,
  RequestOrigin,
  RequestState,
  RequestStore,
  RollbackRequest,
  ThreadRef,
} from '../core/request.js';
import type { TimelineEvent, TimelineStore } from '../core/timeline.js';
import type { RollbackRecord } from '../core/types.js';
import { translatingOutages } from './redis-errors.js';

const num = z.coerce.number().optional();
const str = z.string().optional();
/**
 * The immutable facts, built once: zod 4 compiles an object schema on its first parse, and this one was built
 * inside the transform, so every read of a request built and compiled it again (about 2 ms of CPU per read,
 * 16 % of the app's CPU while 100 Approve clicks were handled).
 */
const factsSchema = z.object({
  id: z.string(),
  target: z.string(),
  plan: planSchema,
  reason: z.string(),
  requester: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  followUp: followUpSchema.optional(),
  batch: batchRefSchema.optional(),
});

const breakGlassSchema = z.object({
  afterMs: z.number(),
  approvers: z.array(z.string()),
}) satisfies z.ZodType<BreakGlass>;

/** A request as stored: immutable facts in `data` (JSON), mutable state in hash fields Lua can change. */
const storedSchema = z.object({
  data: z.string().transform((text) => factsSchema.parse(JSON.parse(text))),
  state: z.enum(['pending', 'approved', 'running', 'succeeded', 'failed', 'stale', 'cancelled', 'expired']),
  originChannel: z.string(),
  originTs: str,
  approver: str,
  approvedAt: num,
  breakGlass: z
    .string()
    .transform((json) => breakGlassSchema.parse(JSON.parse(json)))
    .optional(),
  closedBy: str,
  closedAt: num,
  threadChannel: str,
  threadTs: str,
  threadRoot: z.enum(['notice', 'request']).optional(),
  startedAt: num,
  actedAt: num,
  finishedAt: num,
  outcome: str,
});

// KEYS[1] request hash, KEYS[2] target lock. ARGV: approver, now, break-glass (JSON, or '' for none).
// The lock has no expiry: it lives exactly as long as the request is approved or running, however long the
// queue waits, and is freed when the request ends (FINISH, ABANDON, UNAPPROVE) or its job provably is gone.
const APPROVE = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'unknown'} end
if state ~= 'pending' then return {'closed'} end
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'expiresAt')) then
  redis.call('HSET', KEYS[1], 'state', 'expired', 'closedBy', 'ttl', 'closedAt', ARGV[2])
  return {'expired'}
end
local id = redis.call('HGET', KEYS[1], 'id')
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= id then return {'locked', holder} end
redis.call('SET', KEYS[2], id)
redis.call('HSET', KEYS[1], 'state', 'approved', 'approver', ARGV[1], 'approvedAt', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'breakGlass', ARGV[3]) end
return {'ok'}
`;
// KEYS: a request hash and its target's lock, pair after pair. ARGV: approver, now, break-glass (JSON or ''). Returns {verdict, pair, holder}.
// Every pair is checked before any is changed: all approved and locked, or none.
const APPROVE_ALL = `
local pairs = #KEYS / 2
for i = 1, pairs do
  local request, lock = KEYS[2 * i - 1], KEYS[2 * i]
  local state = redis.call('HGET', request, 'state')
  if not state then return {'unknown', i} end
  if state ~= 'pending' then return {'closed', i} end
  if tonumber(ARGV[2]) > tonumber(redis.call('HGET', request, 'expiresAt')) then
    redis.call('HSET', request, 'state', 'expired', 'closedBy', 'ttl', 'closedAt', ARGV[2])
    return {'expired', i}
  end
  local holder = redis.call('GET', lock)
  if holder and holder ~= redis.call('HGET', request, 'id') then return {'locked', i, holder} end
end
for i = 1, pairs do
  redis.call('SET', KEYS[2 * i], redis.call('HGET', KEYS[2 * i - 1], 'id'))
  redis.call('HSET', KEYS[2 * i - 1], 'state', 'approved', 'approver', ARGV[1], 'approvedAt', ARGV[2])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[2 * i - 1], 'breakGlass', ARGV[3]) end
end
return {'ok'}
`;
// KEYS[1] request hash, KEYS[2] target lock.
const UNAPPROVE = `
if redis.call('HGET', KEYS[1], 'state') ~= 'approved' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'pending')
redis.call('HDEL', KEYS[1], 'approver', 'approvedAt', 'breakGlass')
if redis.call('GET', KEYS[2]) == redis.call('HGET', KEYS[1], 'id') then redis.call('DEL', KEYS[2]) end
return 1
`;
// KEYS[1] request hash, KEYS[2] target lock. ARGV: outcome, now.
const ABANDON = `
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'approved' and state ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'failed', 'outcome', ARGV[1], 'finishedAt', ARGV[2])
if redis.call('GET', KEYS[2]) == redis.call('HGET', KEYS[1], 'id') then redis.call('DEL', KEYS[2]) end
return 1
`;
// KEYS[1] request hash. ARGV: state, by, now.
const CLOSE = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'unknown' end
if state ~= 'pending' then return 'closed' end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'closedBy', ARGV[2], 'closedAt', ARGV[3])
return 'ok'
`;
// KEYS[1] request hash, KEYS[2] target lock. ARGV: now. Returns {verdict, state before, lock holder}.
// A job acts only for a request that is approved (or its own run, resumed) AND holds its target's lock.
const MARK_RUNNING = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'unknown'} end
local holder = redis.call('GET', KEYS[2]) or ''
if state ~= 'approved' and state ~= 'running' then return {'not-approved', state, holder} end
if holder ~= redis.call('HGET', KEYS[1], 'id') then return {'lock-lost', state, holder} end
if state == 'approved' then redis.call('HSET', KEYS[1], 'state', 'running', 'startedAt', ARGV[1]) end
return {'ok', state, holder}
`;
// KEYS[1] request hash. ARGV: now. 1 when this is the first run to reach the change, 0 when one did before.
const MARK_ACTING = `
if redis.call('HSETNX', KEYS[1], 'actedAt', ARGV[1]) == 1 then return 1 end
return 0
`;
// KEYS[1] the follow-up's slot, KEYS[2] the request hash prefix. ARGV: request id, retentionMs.
// One follow-up of each kind per rollback: the slot keeps the first request unless it ended without acting.
const CLAIM_FOLLOW_UP = `
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then
  local state = redis.call('HGET', KEYS[2] .. held, 'state')
  local acted = redis.call('HGET', KEYS[2] .. held, 'actedAt')
  local ended = state == 'cancelled' or state == 'expired' or ((state == 'failed' or state == 'stale') and not acted)
  if state and not ended then return held end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;
// KEYS[1] request hash, KEYS[2] target lock. ARGV: state, outcome, now.
const FINISH = `
if not redis.call('HGET', KEYS[1], 'state') then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'outcome', ARGV[2], 'finishedAt', ARGV[3])
if redis.call('GET', KEYS[2]) == redis.call('HGET', KEYS[1], 'id') then redis.call('DEL', KEYS[2]) end
return 1
`;

export interface RedisRequestStoreOptions {
  /** Namespace for every key; tests use a unique one per file. */
  prefix?: string;
  /** How long a request and its record are kept after creation. */
  retentionMs?: number;
}

/** RequestStore on Redis: one hash per request, a plain key per target lock, Lua for every state change. */
const timelineEventSchema = z.object({
  at: z.number(),
  kind: z.enum([
    'requested',
    'approved',
    'cancelled',
    'expired',
    'queued',
    'started',
    'step',
    'finished',
    'revert-branch',
    'follow-up',
    'frozen',
    'unfrozen',
    'deploy-refused',
    'drift',
    'gitops',
    'alert',
  ]),
  text: z.union([z.string(), textSchema]),
  by: z.string().optional(),
  ok: z.boolean().optional(),
  durationMs: z.number().optional(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })).optional(),
  commits: z.array(z.object({ sha: z.string(), subject: z.string() })).optional(),
}) satisfies z.ZodType<TimelineEvent>;

export class RedisRequestStore implements RequestStore, TimelineStore {
  private readonly prefix: string;
  private readonly retentionMs: number;

  constructor(
    private readonly redis: Redis,
    options: RedisRequestStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'rr';
    this.retentionMs = options.retentionMs ?? 90 * 24 * 3_600_000;
    // A Redis outage reaches callers as QUEUE_UNAVAILABLE, in words, not as ioredis's.
    // biome-ignore lint/correctness/noConstructorReturn: the proxy is the store, with its outages translated
    return translatingOutages(this);
  }

  private requestKey(id: string): string {
    return `${this.prefix}:request:${id}`;
  }

  private lockKey(target: string): string {
    return `${this.prefix}:lock:${target}`;
  }

  private async keysFor(id: string): Promise<[string, string] | undefined> {
    const target = await this.redis.hget(this.requestKey(id), 'target');
    return target === null ? undefined : [this.requestKey(id), this.lockKey(target)];
  }

  async create(request: RollbackRequest): Promise<void> {
    const key = this.requestKey(request.id);
    const { id, target, plan, reason, requester, createdAt, expiresAt, followUp, batch } = request;
    await this.redis
      .multi()
      .hset(key, {
        id,
        target,
        state: request.state,
        expiresAt: String(expiresAt),
        originChannel: request.origin.channel,
        ...(request.origin.messageTs ? { originTs: request.origin.messageTs } : {}),
        data: JSON.stringify({ id, target, plan, reason, requester, createdAt, expiresAt, followUp, batch }),
      })
      .pexpire(key, this.retentionMs)
      .zadd(`${this.prefix}:history`, createdAt, id)
      .zadd(`${this.prefix}:history:${target}`, createdAt, id)
      .exec();
  }

  async append(requestId: string, event: TimelineEvent): Promise<void> {
    const key = `${this.prefix}:timeline:${requestId}`;
    await this.redis.multi().rpush(key, JSON.stringify(event)).pexpire(key, this.retentionMs).exec();
  }

  async timeline(requestId: string): Promise<TimelineEvent[]> {
    const raw = await this.redis.lrange(`${this.prefix}:timeline:${requestId}`, 0, -1);
    return raw.map((line) => timelineEventSchema.parse(JSON.parse(line)));
  }

  async recentRequests(target: string | undefined, limit: number): Promise<string[]> {
    const key = target ? `${this.prefix}:history:${target}` : `${this.prefix}:history`;
    // Trim what retention has expired from the index as we go.
    await this.redis.zremrangebyscore(key, '-inf', Date.now() - this.retentionMs);
    return this.redis.zrevrange(key, 0, limit - 1);
  }

  /** Requests created since `since` (epoch ms), counted by state, for the metrics: one round trip. */
  async countByState(since: number): Promise<Record<string, number>> {
    const ids = await this.redis.zrangebyscore(`${this.prefix}:history`, since, '+inf');
    if (ids.length === 0) return {};
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.requestKey(id), 'state');
    const counts: Record<string, number> = {};
    for (const [error, state] of (await pipeline.exec()) ?? []) {
      if (error || typeof state !== 'string') continue;
      counts[state] = (counts[state] ?? 0) + 1;
    }
    return counts;
  }

  async get(id: string): Promise<RollbackRequest | undefined> {
    const hash = await this.redis.hgetall(this.requestKey(id));
    if (!hash.data) return undefined;
    const s = storedSchema.parse(hash);
    return {
      ...s.data,
      state: s.state,
      origin: { channel: s.originChannel, messageTs: s.originTs },
      approver: s.approver,
      approvedAt: s.approvedAt,
      breakGlass: s.breakGlass,
      closedBy: s.closedBy,
      closedAt: s.closedAt,
      thread:
        s.threadChannel && s.threadTs ? { channel: s.threadChannel, ts: s.threadTs, root: s.threadRoot } : undefined,
      startedAt: s.startedAt,
      actedAt: s.actedAt,
      finishedAt: s.finishedAt,
      outcome: s.outcome,
    };
  }

  async setOrigin(id: string, origin: RequestOrigin): Promise<void> {
    await this.redis.hset(this.requestKey(id), {
      originChannel: origin.channel,
      ...(origin.messageTs ? { originTs: origin.messageTs } : {}),
    });
  }

  async approve(id: string, approver: string, now: number, breakGlass?: BreakGlass): Promise<ApproveResult> {
    const keys = await this.keysFor(id);
    if (!keys) return { ok: false, reason: 'unknown' };
    const glass = breakGlass ? JSON.stringify(breakGlass) : '';
    const [verdict, holder] = (await this.redis.eval(APPROVE, 2, ...keys, approver, String(now), glass)) as [
      string,
      string?,
    ];
    const request = await this.get(id);
    if (!request) return { ok: false, reason: 'unknown' };
    if (verdict === 'ok') return { ok: true, request };
    if (verdict === 'locked') return { ok: false, reason: 'locked', request, holder: holder ?? '' };
    return { ok: false, reason: verdict === 'expired' ? 'expired' : 'closed', request };
  }

  async approveAll(
    ids: readonly string[],
    approver: string,
    now: number,
    breakGlass?: BreakGlass,
  ): Promise<ApproveAllResult> {
    const pairs: [string, string][] = [];
    for (const id of ids) {
      const keys = await this.keysFor(id);
      if (!keys) return { ok: false, id, refusal: { ok: false, reason: 'unknown' } };
      pairs.push(keys);
    }
    // Two requests for one target would both pass the lock check and then share the lock.
    if (new Set(pairs.map(([, lock]) => lock)).size !== pairs.length) {
      throw new Error('approveAll: two of the requests are for the same target');
    }
    const [verdict, pair, holder] = (await this.redis.eval(
      APPROVE_ALL,
      pairs.length * 2,
      ...pairs.flat(),
      approver,
      String(now),
      breakGlass ? JSON.stringify(breakGlass) : '',
    )) as [string, number?, string?];
    if (verdict === 'ok') {
      const requests = (await Promise.all(ids.map((id) => this.get(id)))).filter((r) => r !== undefined);
      return { ok: true, requests };
    }
    const id = ids[(pair ?? 1) - 1] ?? '';
    const request = await this.get(id);
    if (!request) return { ok: false, id, refusal: { ok: false, reason: 'unknown' } };
    if (verdict === 'locked')
      return { ok: false, id, refusal: { ok: false, reason: 'locked', request, holder: holder ?? '' } };
    return { ok: false, id, refusal: { ok: false, reason: verdict === 'expired' ? 'expired' : 'closed', request } };
  }

  async unapprove(id: string): Promise<void> {
    const keys = await this.keysFor(id);
    if (keys) await this.redis.eval(UNAPPROVE, 2, ...keys);
  }

  async abandon(id: string, outcome: string, now: number): Promise<boolean> {
    const keys = await this.keysFor(id);
    return keys ? (await this.redis.eval(ABANDON, 2, ...keys, outcome, String(now))) === 1 : false;
  }

  async close(id: string, state: 'cancelled' | 'expired', by: string, now: number): Promise<CloseResult> {
    const verdict = await this.redis.eval(CLOSE, 1, this.requestKey(id), state, by, String(now));
    const request = await this.get(id);
    if (!request) return { ok: false, reason: 'unknown' };
    return verdict === 'ok' ? { ok: true, request } : { ok: false, reason: 'closed', request };
  }

  async setThread(id: string, thread: ThreadRef | null): Promise<void> {
    if (!thread) {
      await this.redis.hset(this.requestKey(id), { noThread: '1' });
      return;
    }
    await this.redis.hset(this.requestKey(id), {
      threadChannel: thread.channel,
      threadTs: thread.ts,
      ...(thread.root ? { threadRoot: thread.root } : {}),
    });
  }

  async thread(id: string): Promise<ThreadRef | null | undefined> {
    const [channel, ts, root, none] = await this.redis.hmget(
      this.requestKey(id),
      'threadChannel',
      'threadTs',
      'threadRoot',
      'noThread',
    );
    if (channel && ts) return { channel, ts, root: root === 'notice' || root === 'request' ? root : undefined };
    return none === '1' ? null : undefined;
  }

  async markRunning(id: string, now: number): Promise<MarkRunningResult> {
    const keys = await this.keysFor(id);
    if (!keys) return { ok: false, reason: 'unknown' };
    const [verdict, before, holder] = (await this.redis.eval(MARK_RUNNING, 2, ...keys, String(now))) as [
      string,
      RequestState?,
      string?,
    ];
    const request = await this.get(id);
    if (!request || verdict === 'unknown') return { ok: false, reason: 'unknown' };
    const was = { ...request, state: before ?? request.state };
    if (verdict === 'ok') return { ok: true, request: was };
    return {
      ok: false,
      reason: verdict === 'lock-lost' ? 'lock-lost' : 'not-approved',
      request: was,
      holder: holder || undefined,
    };
  }

  async markActing(id: string, now: number): Promise<boolean> {
    return (await this.redis.eval(MARK_ACTING, 1, this.requestKey(id), String(now))) === 1;
  }

  async claimFollowUp(parentId: string, kind: string, requestId: string): Promise<string | undefined> {
    const slot = `${this.prefix}:follow-up:${parentId}:${kind}`;
    const held = await this.redis.eval(
      CLAIM_FOLLOW_UP,
      2,
      slot,
      `${this.prefix}:request:`,
      requestId,
      String(this.retentionMs),
    );
    return typeof held === 'string' ? held : undefined;
  }

  async finish(id: string, state: 'succeeded' | 'failed' | 'stale', outcome: string, now: number): Promise<void> {
    const keys = await this.keysFor(id);
    if (keys) await this.redis.eval(FINISH, 2, ...keys, state, outcome, String(now));
  }

  async lockHolder(target: string): Promise<string | undefined> {
    return (await this.redis.get(this.lockKey(target))) ?? undefined;
  }

  async lastRollback(target: string): Promise<RollbackRecord | undefined> {
    const raw = await this.redis.get(`${this.prefix}:last-rollback:${target}`);
    return raw ? rollbackRecordSchema.parse(JSON.parse(raw)) : undefined;
  }

  async recordRollback(record: RollbackRecord): Promise<void> {
    await this.redis.set(
      `${this.prefix}:last-rollback:${record.target}`,
      JSON.stringify(record),
      'PX',
      this.retentionMs,
    );
  }
}
