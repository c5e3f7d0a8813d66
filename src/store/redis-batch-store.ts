import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { BatchStore, RollbackBatch } from '../core/batch.js';
import type { RequestOrigin } from '../core/request.js';
import { translatingOutages } from './redis-errors.js';

const factsSchema = z.object({
  id: z.string(),
  name: z.string(),
  group: z.string().optional(),
  members: z.array(z.string()).min(1),
  targets: z.array(z.string()).min(1),
  reason: z.string(),
  requester: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
});

/** A batch as stored: its facts in `data` (JSON), where its message is in hash fields. */
const storedSchema = z.object({
  data: z.string().transform((text) => factsSchema.parse(JSON.parse(text))),
  originChannel: z.string(),
  originTs: z.string().optional(),
});

// KEYS[1] the batch hash, KEYS[2] the set of members that ended. ARGV: request id, retention (ms).
// Returns {added, ended, size}: `added` is 1 only the first time a member is counted.
const MEMBER_ENDED = `
local size = tonumber(redis.call('HGET', KEYS[1], 'size'))
if not size then return {0, 0, 0} end
local added = redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {added, redis.call('SCARD', KEYS[2]), size}
`;

/** BatchStore on Redis, beside the request store (same prefix and retention). */
export class RedisBatchStore implements BatchStore {
  private readonly prefix: string;
  private readonly retentionMs: number;

  constructor(
    private readonly redis: Redis,
    options: { prefix?: string; retentionMs?: number } = {},
  ) {
    this.prefix = options.prefix ?? 'rr';
    this.retentionMs = options.retentionMs ?? 90 * 24 * 3_600_000;
    // biome-ignore lint/correctness/noConstructorReturn: the proxy is the store, with its Redis outages translated
    return translatingOutages(this);
  }

  private key(id: string): string {
    return `${this.prefix}:batch:${id}`;
  }

  async createBatch(batch: RollbackBatch): Promise<void> {
    const { id, name, group, members, targets, reason, requester, createdAt, expiresAt } = batch;
    await this.redis
      .multi()
      .hset(this.key(id), {
        data: JSON.stringify({ id, name, group, members, targets, reason, requester, createdAt, expiresAt }),
        size: String(members.length),
        originChannel: batch.origin.channel,
        ...(batch.origin.messageTs ? { originTs: batch.origin.messageTs } : {}),
      })
      .pexpire(this.key(id), this.retentionMs)
      .exec();
  }

  async getBatch(id: string): Promise<RollbackBatch | undefined> {
    const hash = await this.redis.hgetall(this.key(id));
    if (!hash.data) return undefined;
    const stored = storedSchema.parse(hash);
    return { ...stored.data, origin: { channel: stored.originChannel, messageTs: stored.originTs } };
  }

  async setBatchOrigin(id: string, origin: RequestOrigin): Promise<void> {
    await this.redis.hset(this.key(id), {
      originChannel: origin.channel,
      ...(origin.messageTs ? { originTs: origin.messageTs } : {}),
    });
  }

  async memberEnded(id: string, requestId: string): Promise<{ ended: number; size: number; first: boolean }> {
    const [added, ended, size] = (await this.redis.eval(
      MEMBER_ENDED,
      2,
      this.key(id),
      `${this.key(id)}:ended`,
      requestId,
      String(this.retentionMs),
    )) as [number, number, number];
    return { ended, size, first: added === 1 };
  }
}
