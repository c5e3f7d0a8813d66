import type { Redis } from 'ioredis';

/** Deletes every key under `prefix` (SCAN, bounded: 100 000 rounds at most). Returns how many were deleted. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  for (let i = 0; i < 100_000; i++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.del(...keys);
    cursor = next;
    if (cursor === '0') break;
  }
  return deleted;
}
