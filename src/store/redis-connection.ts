import { Redis, type RedisOptions } from 'ioredis';
import type { RedisSettings, SentinelAddress } from '../config/redis-settings.js';
import { RollbackError } from '../core/errors.js';
import type { Logger } from '../log.js';

/**
 * A command sent to a server that a failover demoted is refused with READONLY and was not applied: reconnect
 * (through the Sentinels, to the new master) and send it again (2).
 */
export function reconnectOnReadonly(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

/** Reconnect soon after a failover or a restart: at most 500 ms apart (ioredis's default backs off to 2 s). */
const retryStrategy = (times: number) => Math.min(times * 50, 500);

function addressOf(address: SentinelAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Where the settings point, without secrets: `redis://***@10.0.0.8:6379/0`, or `Sentinel mymaster (10.0.0.5:26379, …)`. */
export function describeRedis(settings: RedisSettings): string {
  if (settings.sentinel) {
    const { masterName, sentinels } = settings.sentinel;
    return `Sentinel ${masterName} (${sentinels.map(addressOf).join(', ')})`;
  }
  return settings.url.replace(/\/\/[^@]*@/, '//***@');
}

/**
 * ioredis's options for the settings. REDIS_URL is read here rather than by ioredis, so that REDIS_PASSWORD
 * wins over its password, and so that with Sentinel its user name, password, database index and scheme apply
 * to the master the Sentinels name. rediss: means TLS to Redis and, with Sentinel, to the Sentinels too.
 * Every connection reconnects on READONLY; BullMQ's blocking connections are `duplicate()`s, with the same options.
 */
export function redisOptions(settings: RedisSettings): RedisOptions {
  const url = new URL(settings.url);
  const tls = url.protocol === 'rediss:';
  const db = Number(url.pathname.slice(1) || '0');
  const common: RedisOptions = {
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: settings.password ?? (url.password ? decodeURIComponent(url.password) : undefined),
    db: Number.isInteger(db) ? db : 0,
    connectTimeout: 3_000,
    retryStrategy,
    reconnectOnError: reconnectOnReadonly,
    ...(tls ? { tls: {} } : {}),
  };
  if (!settings.sentinel) {
    return { ...common, host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(url.port || 6379) };
  }
  const { sentinels, masterName, password } = settings.sentinel;
  return {
    ...common,
    sentinels: sentinels.map(({ host, port }) => ({ host, port })),
    name: masterName,
    role: 'master',
    sentinelPassword: password,
    // A +switch-master from any Sentinel drops the connection at once, rather than when the old master refuses a write.
    failoverDetector: true,
    sentinelRetryStrategy: retryStrategy,
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
  };
}

/** How long start-up waits for a master: ioredis goes round the Sentinels again and again, for ever. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Connects to Redis (through the Sentinels, with them) and fails with a sentence, not a stack trace, when nobody answers. */
export async function connectRedis(settings: RedisSettings, options: RedisOptions, log: Logger): Promise<Redis> {
  const redis = new Redis({ ...redisOptions(settings), lazyConnect: true, ...options });
  let lastProblem: string | undefined;
  redis.on('error', (err: Error) => {
    lastProblem = err.message;
    log.warn({ err: err.message }, 'redis connection error');
  });
  redis.on('sentinelError', (err: Error) => {
    lastProblem = err.message;
    log.warn({ err: err.message }, 'redis sentinel error');
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(lastProblem ?? 'no answer')), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    redis.disconnect();
    throw notAnswering(settings, error, lastProblem);
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

function notAnswering(settings: RedisSettings, error: unknown, lastProblem: string | undefined): RollbackError {
  if (!settings.sentinel) {
    return new RollbackError('QUEUE_UNAVAILABLE', `Redis does not answer at ${describeRedis(settings)}.`, {
      hint: 'Start it (`redis-server`) or set REDIS_URL to a Redis you can reach.',
      cause: error,
    });
  }
  const { masterName, sentinels } = settings.sentinel;
  const said = lastProblem ?? (error instanceof Error ? error.message : String(error));
  // ioredis says "All sentinels are unreachable" even when they answered that they know no such master.
  const why = /Last error: (.*)$/.exec(said)?.[1] ?? said;
  return new RollbackError(
    'QUEUE_UNAVAILABLE',
    `No Redis master "${masterName}" answers through the Sentinels ${sentinels.map(addressOf).join(', ')} (${why}).`,
    {
      hint: `Check REDIS_SENTINELS (host:port of each Sentinel), REDIS_SENTINEL_MASTER (the name in \`sentinel monitor <name> …\`), REDIS_SENTINEL_PASSWORD and REDIS_PASSWORD; \`redis-cli -h <host> -p <port> SENTINEL get-master-addr-by-name ${masterName}\` shows what one Sentinel says.`,
      cause: error,
    },
  );
}

/**
 * Whether everything this connection wrote is on a replica as well as on the master. A Sentinel failover
 * promotes a replica, and Redis replicates asynchronously: a write the master acknowledged but had not yet
 * sent is lost. `no-replica`: none is connected (one Redis, or the replicas are down), so there is nothing
 * to wait for.
 */
export async function copiedToReplica(
  redis: Redis,
  timeoutMs: number,
): Promise<'copied' | 'not-copied' | 'no-replica'> {
  const role = (await redis.call('ROLE')) as [string, number, unknown[]?];
  if (role[0] !== 'master' || !role[2]?.length) return 'no-replica';
  const acknowledged = Number(await redis.call('WAIT', '1', String(timeoutMs)));
  return acknowledged >= 1 ? 'copied' : 'not-copied';
}

/** What `doctor` says about Redis: where it is, and, with Sentinel, whether the Sentinels agree on it. */
export interface RedisProbe {
  detail: string;
  /** Things that work now but will not survive a failover (a Sentinel down, no replica). */
  concerns: string[];
}

export async function probeRedis(settings: RedisSettings, log: Logger): Promise<RedisProbe> {
  const started = performance.now();
  const redis = await connectRedis(settings, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }, log);
  try {
    const ms = Math.round(performance.now() - started);
    if (!settings.sentinel) return { detail: `${describeRedis(settings)} answers (${ms} ms)`, concerns: [] };
    const role = (await redis.call('ROLE')) as [string, number, unknown[]?];
    const replicas = role[2]?.length ?? 0;
    const { masterName, sentinels } = settings.sentinel;
    const answers = await Promise.all(sentinels.map((address) => askSentinel(settings, address)));
    const named = answers.find((a) => a.master)?.master;
    const agreeing = answers.filter((a) => a.master && a.master === named).length;
    const concerns: string[] = [];
    answers.forEach((answer, i) => {
      const address = addressOf(sentinels[i] as SentinelAddress);
      if (answer.problem) concerns.push(`Sentinel ${address} ${answer.problem}`);
      else if (answer.master !== named) concerns.push(`Sentinel ${address} names ${answer.master} as master`);
    });
    if (replicas === 0)
      concerns.push(`${masterName} has no replica connected: a failover would have nothing to promote`);
    if (agreeing < Math.floor(sentinels.length / 2) + 1)
      concerns.push(`only ${agreeing} of ${sentinels.length} Sentinels agree: too few to fail over`);
    return {
      detail: `${describeRedis(settings)}: master ${named ?? 'unknown'} answers (${ms} ms), ${replicas} replica${replicas === 1 ? '' : 's'}, ${agreeing} of ${sentinels.length} Sentinels agree`,
      concerns,
    };
  } finally {
    redis.disconnect();
  }
}

async function askSentinel(
  settings: RedisSettings,
  address: SentinelAddress,
): Promise<{ master?: string; problem?: string }> {
  const sentinel = settings.sentinel;
  if (!sentinel) return {};
  const tls = new URL(settings.url).protocol === 'rediss:';
  const client = new Redis({
    host: address.host,
    port: address.port,
    password: sentinel.password,
    ...(tls ? { tls: {} } : {}),
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', sentinel.masterName)) as string[] | null;
    if (!reply) return { problem: `does not know a master called ${sentinel.masterName}` };
    return { master: `${reply[0]}:${reply[1]}` };
  } catch (error) {
    return { problem: `does not answer (${error instanceof Error ? error.message : String(error)})` };
  } finally {
    client.disconnect();
  }
}
