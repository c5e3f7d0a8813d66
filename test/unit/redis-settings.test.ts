import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redisSettingsFromEnv } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log.js';
import { connectRedis, describeRedis, reconnectOnReadonly, redisOptions } from '../../src/store/redis-connection.js';
import { freePort } from '../support/free-port.js';

const dir = mkdtempSync(join(tmpdir(), 'rr-redis-settings-'));
const file = join(dir, 'rollback.yml');
writeFileSync(
  file,
  'incidentChannel: C0123INCIDENT\napprovers: [U0123APPROVER]\ntargets:\n  cdn:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n',
);
const env = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', FASTLY_API_TOKEN: 'f', ROLLBACK_CONFIG: file };
const sentinelEnv = {
  ...env,
  REDIS_SENTINELS: '10.0.0.5:26379, redis-sentinel-1.internal:26380,[fd00::7]:26381',
  REDIS_SENTINEL_MASTER: 'mymaster',
};

function problems(input: Record<string, string | undefined>): string[] {
  try {
    loadConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Redis settings', () => {
  it('reads the Sentinels, the master name and both passwords', () => {
    const config = loadConfig({
      ...sentinelEnv,
      REDIS_URL: 'rediss://app@ignored:1/2',
      REDIS_PASSWORD: 'redis-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    expect(config.redis).toEqual({
      url: 'rediss://app@ignored:1/2',
      password: 'redis-secret',
      sentinel: {
        sentinels: [
          { host: '10.0.0.5', port: 26379 },
          { host: 'redis-sentinel-1.internal', port: 26380 },
          { host: 'fd00::7', port: 26381 },
        ],
        masterName: 'mymaster',
        password: 'sentinel-secret',
      },
    });
    expect(describeRedis(config.redis)).toBe(
      'Sentinel mymaster (10.0.0.5:26379, redis-sentinel-1.internal:26380, [fd00::7]:26381)',
    );
  });

  it('names a bad Sentinel entry and says how to write the list', () => {
    expect(problems({ ...sentinelEnv, REDIS_SENTINELS: '10.0.0.5:26379,10.0.0.6' })).toEqual([
      'REDIS_SENTINELS: "10.0.0.6" is not host:port: list the Sentinels as host:port separated by commas, e.g. 10.0.0.5:26379,10.0.0.6:26379,10.0.0.7:26379',
    ]);
    expect(problems({ ...sentinelEnv, REDIS_SENTINELS: '10.0.0.5:99999' })[0]).toMatch(
      /^REDIS_SENTINELS: "10.0.0.5:99999" is not host:port/,
    );
  });

  it('needs the master name with the Sentinels, and the Sentinels with the master name, one line each', () => {
    expect(problems({ ...sentinelEnv, REDIS_SENTINEL_MASTER: undefined })).toEqual([
      'REDIS_SENTINEL_MASTER is missing: with REDIS_SENTINELS set, name the master the Sentinels monitor (the name in `sentinel monitor <name> …`, e.g. mymaster).',
    ]);
    expect(problems({ ...env, REDIS_SENTINEL_MASTER: 'mymaster', REDIS_SENTINEL_PASSWORD: 'x' })).toEqual([
      'REDIS_SENTINELS is missing: with REDIS_SENTINEL_MASTER set, list the Sentinels as host:port,host:port (or unset REDIS_SENTINEL_MASTER to use REDIS_URL alone).',
      'REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS: it is the Sentinels’ password; set REDIS_SENTINELS and REDIS_SENTINEL_MASTER, or unset it.',
    ]);
    expect(problems({ ...sentinelEnv, REDIS_SENTINEL_MASTER: 'my master' })[0]).toMatch(
      /^REDIS_SENTINEL_MASTER: must be the master's name/,
    );
  });

  it('gives doctor the Redis settings when the rest of the configuration does not load, and none when they are wrong', () => {
    expect(redisSettingsFromEnv({ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_MASTER: 'm' })?.sentinel).toEqual({
      sentinels: [{ host: '127.0.0.1', port: 26379 }],
      masterName: 'm',
      password: undefined,
    });
    expect(redisSettingsFromEnv({})?.url).toBe('redis://127.0.0.1:6379');
    expect(redisSettingsFromEnv({ REDIS_SENTINELS: '127.0.0.1:26379' })).toBeUndefined();
  });

  it('builds ioredis options: the URL’s user, database and TLS apply to the master; REDIS_PASSWORD wins', () => {
    const plain = redisOptions({
      url: 'redis://user:from-url@redis.internal:6380/3',
      password: undefined,
      sentinel: undefined,
    });
    expect(plain).toMatchObject({ host: 'redis.internal', port: 6380, db: 3, username: 'user', password: 'from-url' });
    expect(plain.tls).toBeUndefined();
    expect(redisOptions({ url: 'redis://:from-url@h:1', password: 'env', sentinel: undefined }).password).toBe('env');

    const sentinel = redisOptions({
      url: 'rediss://app@ignored:1/2',
      password: 'p',
      sentinel: { sentinels: [{ host: '10.0.0.5', port: 26379 }], masterName: 'mymaster', password: 's' },
    });
    expect(sentinel).toMatchObject({
      sentinels: [{ host: '10.0.0.5', port: 26379 }],
      name: 'mymaster',
      role: 'master',
      username: 'app',
      password: 'p',
      sentinelPassword: 's',
      db: 2,
      failoverDetector: true,
      tls: {},
      enableTLSForSentinelMode: true,
      sentinelTLS: {},
    });
    expect(sentinel.host).toBeUndefined();
  });

  it('reconnects and resends a command a demoted master refused with READONLY, and only that', () => {
    expect(reconnectOnReadonly(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnectOnReadonly(new Error('ERR wrong number of arguments'))).toBe(false);
  });

  it('says which Sentinels did not answer and what to check, instead of retrying for ever', async () => {
    const port = await freePort();
    const settings = redisSettingsFromEnv({ REDIS_SENTINELS: `127.0.0.1:${port}`, REDIS_SENTINEL_MASTER: 'mymaster' });
    if (!settings) throw new Error('settings');
    const error = await connectRedis(settings, {}, createLogger({ level: 'silent' })).catch((e: unknown) => e);
    expect(String(error)).toContain(`No Redis master "mymaster" answers through the Sentinels 127.0.0.1:${port}`);
    expect((error as { hint?: unknown }).hint).toBeDefined();
  }, 10_000);
});
