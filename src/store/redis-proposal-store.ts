import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ProposalAlert } from '../core/alerts.js';
import type { OpenProposal, ProposalStore } from '../core/ports/alert-proposals.js';
import { translatingOutages } from './redis-errors.js';

const CLAIMED = 'claimed';

const alertSchema = z.object({
  fingerprint: z.string(),
  name: z.string(),
  startsAt: z.number(),
  summary: z.string().optional(),
  resolvedAt: z.number().optional(),
}) satisfies z.ZodType<ProposalAlert>;

const proposalSchema = z.object({
  target: z.string(),
  requestId: z.string(),
  channel: z.string(),
  ts: z.string(),
  liveSince: z.number(),
  alerts: z.array(alertSchema),
  declinedAt: z.number().optional(),
  decidedAt: z.number().optional(),
}) satisfies z.ZodType<OpenProposal>;

/**
 * Proposals in Redis: `<prefix>:proposal:<target>` holds the target's open proposal (or `claimed` while one is
 * made), with a TTL a little past its request's expiry; `<prefix>:alert-seen:<hash>` marks a notification handled.
 * SET NX makes the claim and the first sighting atomic across app processes.
 */
export class RedisProposalStore implements ProposalStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string },
  ) {
    // biome-ignore lint/correctness/noConstructorReturn: the outage-translating proxy is the store.
    return translatingOutages(this);
  }

  private proposalKey(target: string): string {
    return `${this.options.prefix}:proposal:${target}`;
  }

  private seenKey(key: string): string {
    return `${this.options.prefix}:alert-seen:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
  }

  async firstSeen(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.seenKey(key), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async forget(key: string): Promise<void> {
    await this.redis.del(this.seenKey(key));
  }

  async open(target: string): Promise<OpenProposal | 'claimed' | undefined> {
    const raw = await this.redis.get(this.proposalKey(target));
    if (raw === null) return undefined;
    if (raw === CLAIMED) return CLAIMED;
    return proposalSchema.parse(JSON.parse(raw));
  }

  async claim(target: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.proposalKey(target), CLAIMED, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async save(proposal: OpenProposal, ttlMs: number): Promise<void> {
    await this.redis.set(this.proposalKey(proposal.target), JSON.stringify(proposal), 'PX', Math.ceil(ttlMs));
  }

  async release(target: string): Promise<void> {
    await this.redis.del(this.proposalKey(target));
  }
}
