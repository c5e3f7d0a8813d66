import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log.js';
import { type Running, run } from '../../src/wiring.js';
import { CHANNELS, type Harness, startHarness } from '../support/harness.js';
import { PrivateRedis } from '../support/processes.js';
import { writeRollbackYml } from '../support/rollback-yml.js';
import { SlackSimulator } from '../support/slack-simulator.js';
import { waitUntil } from '../support/wait.js';

const METRICS_TOKEN = 'metrics-test-token-0123456789';

let h: Harness | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function get(port: number, path: string, token?: string) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', text };
}

async function readiness(port: number) {
  const { status, text } = await get(port, '/readyz');
  return { status, body: JSON.parse(text) as { ready: boolean; notReady: Array<{ check: string; detail: string }> } };
}

/** One series' value in Prometheus text, e.g. `rollbacks_total{target="cdn",kind="fastly",outcome="succeeded"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A bot started the way main.ts does, on a Redis and Slack of the test's choosing. */
async function startBot(options: {
  redisUrl: string;
  slack: SlackSimulator;
  botToken?: string;
  mode: 'all' | 'worker';
}) {
  const dir = mkdtempSync(join(tmpdir(), 'rr-health-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const file = writeRollbackYml(dir, {
    incidentChannel: CHANNELS.incident,
    approvers: ['UAPP'],
    targets: ['  cdn:', '    kind: fastly', '    serviceId: SU1Z0isxPaozGVKXdv0eY'],
  });
  const config = loadConfig(
    {
      SLACK_BOT_TOKEN: options.botToken ?? options.slack.botToken,
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: options.slack.apiUrl,
      PORT: '0',
      REDIS_URL: options.redisUrl,
      ROLLBACK_CONFIG: file,
      FASTLY_API_TOKEN: 'unused',
      FASTLY_API_URL: 'http://127.0.0.1:9',
    },
    { mode: options.mode },
  );
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const running: Running = await run(config, createLogger({ level: 'silent', destination: sink }), {
    prefix: `rrhealth-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  });
  cleanups.push(() => running.stop());
  return running;
}

describe('health and metrics on PORT', () => {
  it('answers liveness and readiness without a token, and counts a rollback, its calls and its freeze in /metrics', async () => {
    h = await startHarness({ metricsToken: METRICS_TOKEN });
    const port = h.running.port;

    expect(await get(port, '/healthz')).toMatchObject({ status: 200, text: '{"status":"alive"}' });
    // Ready once Slack has taken the token; the worker's queue and Redis are checked on every probe.
    const ready = await waitUntil('ready', async () => {
      const answer = await readiness(port);
      return answer.status === 200 && answer;
    });
    expect(ready.body).toMatchObject({ ready: true, notReady: [] });
    expect((ready.body as unknown as { checks: Array<{ check: string }> }).checks.map((c) => c.check).sort()).toEqual([
      'queue',
      'redis',
      'slack',
    ]);

    // The token guards /metrics (and only it).
    const refused = await get(port, '/metrics');
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('METRICS_TOKEN');
    expect((await get(port, '/metrics', 'wrong-token-wrong-token')).status).toBe(401);

    // Slack answers the notice with a 429 once: visible beside the 2xx.
    h.slack.injectErrors({ method: 'chat.postMessage', count: 1, status: 429, retryAfterSeconds: 0 });
    await h.rollBack('cdn elevated 5xx');

    const metrics = await get(port, '/metrics', METRICS_TOKEN);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    const text = metrics.text;
    expect(sample(text, 'rollbacks_total{target="cdn",kind="fastly",outcome="succeeded"}')).toBe(1);
    expect(sample(text, 'rollback_approve_to_verified_seconds_count{kind="fastly"}')).toBe(1);
    expect(sample(text, 'rollback_approve_to_first_provider_call_seconds_count{kind="fastly"}')).toBe(1);
    expect(sample(text, 'provider_api_calls_total{provider="fastly",status_class="2xx"}')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'slack_api_calls_total{method="chat.postMessage",status_class="429"}')).toBe(1);
    expect(sample(text, 'slack_api_calls_total{method="chat.postMessage",status_class="2xx"}')).toBeGreaterThan(1);
    expect(sample(text, 'slack_api_calls_total{method="auth.test",status_class="2xx"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'target_frozen{target="cdn"}')).toBe(1);
    expect(sample(text, 'rollback_requests{state="succeeded"}')).toBe(1);
    for (const state of ['waiting', 'active', 'delayed', 'failed'])
      expect(sample(text, `rollback_queue_jobs{state="${state}"}`)).toBe(0);
    // prom-client's default process metrics.
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('without METRICS_TOKEN, /metrics is open like the probes', async () => {
    h = await startHarness();
    const metrics = await get(h.running.port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('# TYPE rollbacks_total counter');
  });

  it('a worker serves the probes and /metrics on PORT too, and is not ready while Redis is away', async () => {
    const redis = await PrivateRedis.start('none');
    cleanups.push(() => redis.close());
    const slack = await SlackSimulator.start();
    cleanups.push(() => slack.close());
    const worker = await startBot({ redisUrl: redis.url, slack, mode: 'worker' });

    expect((await get(worker.port, '/healthz')).status).toBe(200);
    await waitUntil('worker ready', async () => (await readiness(worker.port)).status === 200);
    expect((await get(worker.port, '/metrics')).text).toContain('provider_api_calls_total');
    expect((await get(worker.port, '/slack/events')).status).toBe(404);

    await redis.stop('SIGKILL');
    const down = await waitUntil('not ready', async () => {
      const answer = await readiness(worker.port);
      return answer.status === 503 && answer;
    });
    expect(down.body.ready).toBe(false);
    expect(down.body.notReady.map((c) => c.check)).toContain('redis');
    // Alive all the same: a kubelet must not restart a worker for Redis's sake.
    expect((await get(worker.port, '/healthz')).status).toBe(200);

    await redis.start();
    await waitUntil('ready again', async () => (await readiness(worker.port)).status === 200, 15_000);
  });

  it('is not ready while Slack refuses the bot token, and says so', async () => {
    const slack = await SlackSimulator.start();
    cleanups.push(() => slack.close());
    const app = await startBot({
      redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      slack,
      botToken: 'xoxb-not-the-right-one',
      mode: 'all',
    });
    const refused = await waitUntil('slack refusal', async () => {
      const answer = await readiness(app.port);
      return answer.body.notReady.some((c) => c.check === 'slack' && c.detail.includes('invalid_auth')) && answer;
    });
    expect(refused.status).toBe(503);
    expect(refused.body.notReady).toEqual([
      { check: 'slack', detail: expect.stringContaining('Slack refused SLACK_BOT_TOKEN (invalid_auth)') },
    ]);
  });
});
