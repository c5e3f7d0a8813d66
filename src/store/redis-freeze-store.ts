import type { Redis } from 'ioredis';
import { z } from 'zod';
import type {
  ApproveUnfreezeResult,
  CloseUnfreezeResult,
  Freeze,
  FreezeStore,
  Lift,
  LiftedFreeze,
  RevertRef,
  SuspensionRecord,
  UnfreezeRequest,
} from '../core/freeze.js';
import { textSchema, versionSchema } from '../core/plan-schema.js';
import type { RequestOrigin } from '../core/request.js';
import type { VersionInfo } from '../core/types.js';
import { translatingOutages } from './redis-errors.js';

const revertSchema = z.object({
  commit: z.string(),
  branch: z.string(),
  repo: z.string(),
}) satisfies z.ZodType<RevertRef>;

/** A freeze as stored: its facts in `data`, the revert (added later) apart. */
const freezeDataSchema = z.object({
  id: z.string(),
  target: z.string(),
  cause: z.enum(['rollback', 'manual']),
  since: z.number(),
  by: z.string(),
  reason: z.string(),
  from: versionSchema.optional(),
  restored: versionSchema.optional(),
});

const liftSchema = z.object({
  at: z.number(),
  by: z.string(),
  how: z.enum(['unfreeze', 'revert-deployed', 'superseded']),
  why: z.union([z.string(), textSchema]),
  requestId: z.string().optional(),
  requester: z.string().optional(),
}) satisfies z.ZodType<Lift>;

/** One ended freeze in the history lists, as the Lua scripts write it. */
const liftedSchema = z.object({ freeze: freezeDataSchema, revert: revertSchema.nullable(), lifted: liftSchema });

const suspensionSchema = z.object({
  requestId: z.string(),
  target: z.string(),
  suspension: z.object({ controller: z.string(), description: z.string(), restore: z.record(z.string(), z.unknown()) }),
});
const resumedSchema = z.object({ by: z.string(), at: z.number() });

const num = z.coerce.number().optional();
const str = z.string().optional();
const unfreezeSchema = z.object({
  data: z.string().transform((raw) =>
    z
      .object({
        id: z.string(),
        target: z.string(),
        freezeId: z.string(),
        reason: z.string(),
        requester: z.string(),
        createdAt: z.number(),
        expiresAt: z.number(),
      })
      .parse(JSON.parse(raw)),
  ),
  state: z.enum(['pending', 'approved', 'cancelled', 'expired']),
  originChannel: z.string(),
  originTs: str,
  approver: str,
  approvedAt: num,
  closedBy: str,
  closedAt: num,
});

/** How many ended freezes the history keeps, per target and overall. */
const HISTORY_LENGTH = 200;

// An ended freeze's entry: the stored facts, the revert, and how it ended, as one JSON document.
const ENTRY = `
local function entry(key, lift)
  local revert = redis.call('HGET', key, 'revert') or 'null'
  return '{"freeze":' .. redis.call('HGET', key, 'data') .. ',"revert":' .. revert .. ',"lifted":' .. lift .. '}'
end
local function remember(e, perTarget, all, length)
  redis.call('LPUSH', perTarget, e)
  redis.call('LTRIM', perTarget, 0, length - 1)
  redis.call('LPUSH', all, e)
  redis.call('LTRIM', all, 0, length - 1)
end
`;
// KEYS: freeze hash, history of the target, history of all. ARGV: id, data, superseded lift, length.
// The same freeze again (a rollback resumed after its worker died) changes nothing.
const FREEZE = `${ENTRY}
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then remember(entry(KEYS[1], ARGV[3]), KEYS[2], KEYS[3], tonumber(ARGV[4])) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'data', ARGV[2])
return 1
`;
// KEYS: freeze hash. ARGV: id, data. Returns the data of the freeze already there, or false.
const FREEZE_IF_NONE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGET', KEYS[1], 'data') end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'data', ARGV[2])
return false
`;
// KEYS: freeze hash. ARGV: freeze id, expected seen id, seen id, seen. The restored version counts as seen first.
const NOTE_SEEN = `
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
local seen = redis.call('HGET', KEYS[1], 'seenId')
if not seen then
  local restored = cjson.decode(redis.call('HGET', KEYS[1], 'data'))['restored']
  if type(restored) ~= 'table' then return 0 end
  seen = restored['id']
end
if seen ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'seenId', ARGV[3], 'seen', ARGV[4])
return 1
`;
// KEYS: freeze hash. ARGV: id, revert.
const ATTACH_REVERT = `
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'revert', ARGV[2])
return 1
`;
// KEYS: freeze hash, history of the target, history of all. ARGV: id, lift, length. The ended entry, or false.
const LIFT = `${ENTRY}
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return false end
local e = entry(KEYS[1], ARGV[2])
remember(e, KEYS[2], KEYS[3], tonumber(ARGV[3]))
redis.call('DEL', KEYS[1])
return e
`;
// KEYS: unfreeze hash, freeze hash, history of the target, history of all. ARGV: approver, now, lift, length.
// Approved and lifted in one step: both or neither.
const APPROVE_UNFREEZE = `${ENTRY}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'unknown'} end
if state ~= 'pending' then return {'closed'} end
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'expiresAt')) then
  redis.call('HSET', KEYS[1], 'state', 'expired', 'closedBy', 'ttl', 'closedAt', ARGV[2])
  return {'expired'}
end
local current = redis.call('HGET', KEYS[2], 'id')
if current ~= redis.call('HGET', KEYS[1], 'freezeId') then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'closedBy', 'freeze-ended', 'closedAt', ARGV[2])
  return {'freeze-gone', current and redis.call('HGET', KEYS[2], 'data') or ''}
end
local e = entry(KEYS[2], ARGV[3])
remember(e, KEYS[3], KEYS[4], tonumber(ARGV[4]))
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'state', 'approved', 'approver', ARGV[1], 'approvedAt', ARGV[2])
return {'ok', e}
`;
// KEYS: unfreeze hash. ARGV: state, by, now.
const CLOSE_UNFREEZE = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'unknown' end
if state ~= 'pending' then return 'closed' end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'closedBy', ARGV[2], 'closedAt', ARGV[3])
return 'ok'
`;

export interface RedisFreezeStoreOptions {
  prefix?: string;
  /** How long unfreeze requests and the once-per-commit marks are kept. Freezes themselves never expire. */
  retentionMs?: number;
}

/** FreezeStore on Redis: a hash per frozen target (no TTL), lists of ended freezes, Lua for every change. */
export class RedisFreezeStore implements FreezeStore {
  private readonly prefix: string;
  private readonly retentionMs: number;

  constructor(
    private readonly redis: Redis,
    options: RedisFreezeStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'rr';
    this.retentionMs = options.retentionMs ?? 90 * 24 * 3_600_000;
    // biome-ignore lint/correctness/noConstructorReturn: the proxy is the store, with its outages translated
    return translatingOutages(this);
  }

  private freezeKey(target: string): string {
    return `${this.prefix}:freeze:${target}`;
  }

  private historyKeys(target: string): [string, string] {
    return [`${this.prefix}:freezes:${target}`, `${this.prefix}:freezes`];
  }

  private unfreezeKey(id: string): string {
    return `${this.prefix}:unfreeze:${id}`;
  }

  async freeze(freeze: Freeze): Promise<void> {
    const superseded: Lift = {
      at: freeze.since,
      by: freeze.by,
      how: 'superseded',
      why: `replaced by the freeze of ${freeze.id}`,
      requestId: freeze.id,
    };
    await this.redis.eval(
      FREEZE,
      3,
      this.freezeKey(freeze.target),
      ...this.historyKeys(freeze.target),
      freeze.id,
      dataOf(freeze),
      JSON.stringify(superseded),
      String(HISTORY_LENGTH),
    );
    if (freeze.revert) await this.attachRevert(freeze.target, freeze.id, freeze.revert);
  }

  async freezeIfNone(freeze: Freeze): Promise<Freeze | undefined> {
    const existing = await this.redis.eval(FREEZE_IF_NONE, 1, this.freezeKey(freeze.target), freeze.id, dataOf(freeze));
    return typeof existing === 'string' ? freezeDataSchema.parse(JSON.parse(existing)) : undefined;
  }

  async current(target: string): Promise<Freeze | undefined> {
    const [data, revert, seen] = await this.redis.hmget(this.freezeKey(target), 'data', 'revert', 'seen');
    if (!data) return undefined;
    return {
      ...freezeDataSchema.parse(JSON.parse(data)),
      ...(revert ? { revert: revertSchema.parse(JSON.parse(revert)) } : {}),
      ...(seen ? { seen: versionSchema.parse(JSON.parse(seen)) } : {}),
    };
  }

  async noteSeen(target: string, freezeId: string, expectedSeenId: string, seen: VersionInfo): Promise<boolean> {
    const done = await this.redis.eval(
      NOTE_SEEN,
      1,
      this.freezeKey(target),
      freezeId,
      expectedSeenId,
      seen.id,
      JSON.stringify(seen),
    );
    return done === 1;
  }

  private suspensionKey(requestId: string): string {
    return `${this.prefix}:gitops-suspension:${requestId}`;
  }

  async recordSuspension(record: SuspensionRecord): Promise<void> {
    const { requestId, target, suspension } = record;
    await this.redis.set(
      this.suspensionKey(requestId),
      JSON.stringify({ requestId, target, suspension }),
      'PX',
      this.retentionMs,
      'NX',
    );
  }

  async suspension(requestId: string): Promise<SuspensionRecord | undefined> {
    const [raw, resumed] = await Promise.all([
      this.redis.get(this.suspensionKey(requestId)),
      this.redis.get(`${this.suspensionKey(requestId)}:resumed`),
    ]);
    if (!raw) return undefined;
    const record = suspensionSchema.parse(JSON.parse(raw));
    return { ...record, ...(resumed ? { resumed: resumedSchema.parse(JSON.parse(resumed)) } : {}) };
  }

  async claimResume(requestId: string, by: string, at: number): Promise<boolean> {
    const key = `${this.suspensionKey(requestId)}:resumed`;
    return (await this.redis.set(key, JSON.stringify({ by, at }), 'PX', this.retentionMs, 'NX')) === 'OK';
  }

  async releaseResume(requestId: string): Promise<void> {
    await this.redis.del(`${this.suspensionKey(requestId)}:resumed`);
  }

  async attachRevert(target: string, freezeId: string, revert: RevertRef): Promise<boolean> {
    return (await this.redis.eval(ATTACH_REVERT, 1, this.freezeKey(target), freezeId, JSON.stringify(revert))) === 1;
  }

  async lift(target: string, freezeId: string, lift: Lift): Promise<LiftedFreeze | undefined> {
    const entry = await this.redis.eval(
      LIFT,
      3,
      this.freezeKey(target),
      ...this.historyKeys(target),
      freezeId,
      JSON.stringify(lift),
      String(HISTORY_LENGTH),
    );
    return typeof entry === 'string' ? liftedOf(entry) : undefined;
  }

  async history(target: string | undefined, limit: number): Promise<LiftedFreeze[]> {
    const key = target ? this.historyKeys(target)[0] : `${this.prefix}:freezes`;
    const entries = await this.redis.lrange(key, 0, limit - 1);
    return entries.map(liftedOf);
  }

  async firstRefusal(freezeId: string, commit: string): Promise<boolean> {
    const key = `${this.prefix}:gate-refused:${freezeId}:${commit}`;
    return (await this.redis.set(key, '1', 'PX', this.retentionMs, 'NX')) === 'OK';
  }

  async createUnfreeze(request: UnfreezeRequest): Promise<void> {
    const key = this.unfreezeKey(request.id);
    const { id, target, freezeId, reason, requester, createdAt, expiresAt } = request;
    await this.redis
      .multi()
      .hset(key, {
        id,
        target,
        freezeId,
        state: request.state,
        expiresAt: String(expiresAt),
        originChannel: request.origin.channel,
        ...(request.origin.messageTs ? { originTs: request.origin.messageTs } : {}),
        data: JSON.stringify({ id, target, freezeId, reason, requester, createdAt, expiresAt }),
      })
      .pexpire(key, this.retentionMs)
      .exec();
  }

  async getUnfreeze(id: string): Promise<UnfreezeRequest | undefined> {
    const hash = await this.redis.hgetall(this.unfreezeKey(id));
    if (!hash.data) return undefined;
    const s = unfreezeSchema.parse(hash);
    return {
      ...s.data,
      state: s.state,
      origin: { channel: s.originChannel, messageTs: s.originTs },
      approver: s.approver,
      approvedAt: s.approvedAt,
      closedBy: s.closedBy,
      closedAt: s.closedAt,
    };
  }

  async setUnfreezeOrigin(id: string, origin: RequestOrigin): Promise<void> {
    await this.redis.hset(this.unfreezeKey(id), {
      originChannel: origin.channel,
      ...(origin.messageTs ? { originTs: origin.messageTs } : {}),
    });
  }

  async approveUnfreeze(id: string, approver: string, now: number, lift: Lift): Promise<ApproveUnfreezeResult> {
    const target = await this.redis.hget(this.unfreezeKey(id), 'target');
    if (target === null) return { ok: false, reason: 'unknown' };
    const [verdict, payload] = (await this.redis.eval(
      APPROVE_UNFREEZE,
      4,
      this.unfreezeKey(id),
      this.freezeKey(target),
      ...this.historyKeys(target),
      approver,
      String(now),
      JSON.stringify(lift),
      String(HISTORY_LENGTH),
    )) as [string, string?];
    const request = await this.getUnfreeze(id);
    if (!request || verdict === 'unknown') return { ok: false, reason: 'unknown' };
    if (verdict === 'ok' && payload) return { ok: true, request, lifted: liftedOf(payload) };
    if (verdict === 'freeze-gone') {
      const current = payload ? freezeDataSchema.parse(JSON.parse(payload)) : undefined;
      return { ok: false, reason: 'freeze-gone', request, current };
    }
    return { ok: false, reason: verdict === 'expired' ? 'expired' : 'closed', request };
  }

  async closeUnfreeze(
    id: string,
    state: 'cancelled' | 'expired',
    by: string,
    now: number,
  ): Promise<CloseUnfreezeResult> {
    const verdict = await this.redis.eval(CLOSE_UNFREEZE, 1, this.unfreezeKey(id), state, by, String(now));
    const request = await this.getUnfreeze(id);
    if (!request) return { ok: false, reason: 'unknown' };
    return verdict === 'ok' ? { ok: true, request } : { ok: false, reason: 'closed', request };
  }
}

function dataOf(freeze: Freeze): string {
  const { revert: _revert, ...data } = freeze;
  return JSON.stringify(data);
}

function liftedOf(raw: string): LiftedFreeze {
  const { freeze, revert, lifted } = liftedSchema.parse(JSON.parse(raw));
  return { ...freeze, ...(revert ? { revert } : {}), lifted };
}
