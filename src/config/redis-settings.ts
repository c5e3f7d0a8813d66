import { z } from 'zod';

/** One Sentinel's address. */
export interface SentinelAddress {
  host: string;
  port: number;
}

/**
 * Where every Redis connection of the bot goes (the app's, the worker's, the CLI's, BullMQ's): one Redis at
 * REDIS_URL, or the master a set of Sentinels names, followed through failovers.
 */
export interface RedisSettings {
  /**
   * REDIS_URL. With Sentinel its host and port are not used (the Sentinels say where the master is); its
   * scheme (rediss: TLS), user name, password and database index still apply.
   */
  url: string;
  /** REDIS_PASSWORD: Redis's password, over the one in REDIS_URL. */
  password: string | undefined;
  sentinel: SentinelSettings | undefined;
}

interface SentinelSettings {
  /** REDIS_SENTINELS, in the order given. */
  sentinels: SentinelAddress[];
  /** REDIS_SENTINEL_MASTER: the name the Sentinels monitor the master under. */
  masterName: string;
  /** REDIS_SENTINEL_PASSWORD: the Sentinels' own password (`requirepass` in sentinel.conf), if they have one. */
  password: string | undefined;
}

const HOST_PORT = /^(?<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?<port>\d{1,5})$/;

/** `host:port,host:port` → addresses; a bad entry is named in the message. */
export const sentinelListSchema = z.string().transform((text, ctx): SentinelAddress[] => {
  const entries = text.split(',').map((entry) => entry.trim());
  const addresses: SentinelAddress[] = [];
  for (const entry of entries) {
    const match = HOST_PORT.exec(entry);
    const port = Number(match?.groups?.port);
    if (!match?.groups?.host || !Number.isInteger(port) || port < 1 || port > 65_535) {
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}" is not host:port: list the Sentinels as host:port separated by commas, e.g. 10.0.0.5:26379,10.0.0.6:26379,10.0.0.7:26379`,
      });
      return z.NEVER;
    }
    addresses.push({ host: match.groups.host.replace(/^\[|\]$/g, ''), port });
  }
  return addresses;
});

/** The settings the Sentinel variables need with each other, checked on what is set: one line per problem. */
export function redisPairingProblems(present: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (present.REDIS_SENTINELS && !present.REDIS_SENTINEL_MASTER)
    problems.push(
      'REDIS_SENTINEL_MASTER is missing: with REDIS_SENTINELS set, name the master the Sentinels monitor (the name in `sentinel monitor <name> …`, e.g. mymaster).',
    );
  if (present.REDIS_SENTINEL_MASTER && !present.REDIS_SENTINELS)
    problems.push(
      'REDIS_SENTINELS is missing: with REDIS_SENTINEL_MASTER set, list the Sentinels as host:port,host:port (or unset REDIS_SENTINEL_MASTER to use REDIS_URL alone).',
    );
  if (present.REDIS_SENTINEL_PASSWORD && !present.REDIS_SENTINELS)
    problems.push(
      'REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS: it is the Sentinels’ password; set REDIS_SENTINELS and REDIS_SENTINEL_MASTER, or unset it.',
    );
  return problems;
}

/** The Redis part of the parsed environment. */
export interface RedisEnv {
  REDIS_URL: string;
  REDIS_PASSWORD?: string | undefined;
  REDIS_SENTINELS?: SentinelAddress[] | undefined;
  REDIS_SENTINEL_MASTER?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
}

export function redisSettingsOf(env: RedisEnv): RedisSettings {
  const { REDIS_SENTINELS: sentinels, REDIS_SENTINEL_MASTER: masterName } = env;
  return {
    url: env.REDIS_URL,
    password: env.REDIS_PASSWORD,
    sentinel: sentinels && masterName ? { sentinels, masterName, password: env.REDIS_SENTINEL_PASSWORD } : undefined,
  };
}
