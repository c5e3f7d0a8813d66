import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForNode } from '../support/bundle.js';
import { type CliRun, jsonOf, runCli } from '../support/cli-process.js';
import { FastlySimulator } from '../support/fastly-simulator.js';
import { deleteKeys } from '../support/redis-keys.js';
import { fastlyTarget, writeRollbackYml } from '../support/rollback-yml.js';

/**
 * What a new user trips over in the CLI (issue 13): usage errors under --json, status when a target cannot be
 * read, doctor on a kubeconfig that is not there, and the commands that need no Slack token.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CDN_SERVICE = 'SU1Z0isxPaozGVKXdv0eY';
const APPROVER = 'UAPP';

let entry = '';
let fastly: FastlySimulator;
let dir = '';
const redis = new Redis(REDIS_URL);
const prefix = `rrfirst-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  [entry, fastly] = await Promise.all([
    bundleForNode('src/cli/main.ts', 'rapid-rollback-cli-first-hour-test'),
    FastlySimulator.start(),
  ]);
  fastly.addService({ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 });
  dir = mkdtempSync(join(tmpdir(), 'rr-first-hour-'));
});
afterAll(async () => {
  await fastly.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  if (entry) rmSync(entry, { force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The environment of a Fastly-only user who has not made the Slack app yet: no SLACK_BOT_TOKEN. */
function fastlyOnly(targets: string[] = fastlyTarget('cdn', CDN_SERVICE), name = 'rollback.yml') {
  const sub = mkdtempSync(join(dir, name.replace(/\W/g, '-')));
  const file = writeRollbackYml(sub, { incidentChannel: 'CINC', approvers: [APPROVER], targets });
  return {
    FASTLY_API_TOKEN: fastly.token,
    FASTLY_API_URL: fastly.url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    ROLLBACK_CONFIG: file,
    USER: 'alice',
    HOME: sub,
  };
}

/** A token, for the tests that are not about it (Slack itself is not asked there, or does not answer). */
const SLACK = { SLACK_BOT_TOKEN: 'xoxb-first-hour', SLACK_API_URL: 'http://127.0.0.1:1/api/' };

const cli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> => runCli(entry, args, env);

describe('the CLI in the first hour', { timeout: 120_000 }, () => {
  it('--json: an unknown command, an unknown flag and a missing argument are one JSON document on stdout, exit 2', async () => {
    const runs = await Promise.all([
      cli(['--json', 'rollbak', 'cdn']),
      cli(['--json', 'plan', 'cdn', '--frobnicate']),
      cli(['--json', 'plan']),
      cli(['--json', 'rollback', 'cdn', '--approved-by', APPROVER]),
    ]);
    const messages = runs.map((run) => {
      expect(run.code).toBe(2);
      const document = jsonOf(run);
      expect(document).toMatchObject({ ok: false, exitCode: 2, error: { code: 'USAGE' } });
      return (document.error as { message: string }).message;
    });
    expect(messages[0]).toMatch(/unknown command 'rollbak'/);
    expect(messages[0]).toMatch(/rollback/);
    expect(messages[1]).toMatch(/unknown option '--frobnicate'/);
    expect(messages[2]).toMatch(/missing required argument 'target'/);
    expect(messages[3]).toMatch(/required option '--reason <text>' not specified/);
    // Without --json, people read it on stderr, as before.
    const human = await cli(['rollbak']);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/unknown command 'rollbak'/);
  });

  it('plan, status and rollback work without SLACK_BOT_TOKEN; rollback says Slack was not told', async () => {
    const env = fastlyOnly();
    const [plan, status] = await Promise.all([cli(['plan', 'cdn'], env), cli(['status'], env)]);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Plan: cdn v42 → v41 (nothing was changed)');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/• cdn +v42/);

    const rollback = await cli(
      ['rollback', 'cdn', '--reason', 'no slack app yet', '--approved-by', APPROVER, '--yes'],
      env,
    );
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain(
      '⚠️ Slack was not told (SLACK_BOT_TOKEN is not set): no notice in #CINC, no thread.',
    );
    expect(rollback.stdout).toContain('✅ cdn is back on v41, verified.');
    expect(fastly.activeVersion(CDN_SERVICE)).toBe(41);
    const gate = await cli(['gate', 'cdn'], env);
    expect(gate.code).toBe(1);
    expect(gate.stdout).toMatch(/frozen/);
  });

  it("rollback and resume read RR_WORKER_LOCK_MS as the bot's worker does: one below 200 ms is refused", async () => {
    const env = { ...fastlyOnly(), ...SLACK, RR_WORKER_LOCK_MS: '50' };
    const runs = await Promise.all([
      cli(['rollback', 'cdn', '--reason', 'lock', '--approved-by', APPROVER, '--yes'], env),
      cli(['resume', 'rb-mwr8euky-a7ngmo', '--yes'], env),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        'RR_WORKER_LOCK_MS: must be a whole number of milliseconds, at least 200 (unset: 10000)',
      );
    }
  });

  it('the CLI running a rollback itself holds its job for RR_WORKER_LOCK_MS, as a bot worker does', async () => {
    const EDGE = 'EDGE0000service00000001';
    fastly.addService({ id: EDGE, name: 'edge-prod', versions: 7, active: 7 });
    const env = { ...fastlyOnly(fastlyTarget('edge', EDGE), 'lock'), RR_WORKER_LOCK_MS: '1500' };
    // Slow answers keep the job running long enough to read its lock while the worker holds it.
    fastly.setLatency(300);
    const ttls: number[] = [];
    let running = true;
    const run = cli(['rollback', 'edge', '--reason', 'lock', '--approved-by', APPROVER, '--yes'], env).finally(() => {
      running = false;
    });
    try {
      while (running) {
        const locks = await redis.keys(`${prefix}-bull:*:lock`);
        for (const key of locks) ttls.push(await redis.pttl(key));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      fastly.setLatency(0);
    }
    expect((await run).code).toBe(0);
    const held = ttls.filter((ms) => ms > 0);
    expect(held.length).toBeGreaterThan(0);
    expect(Math.max(...held)).toBeLessThanOrEqual(1500);
  });

  it('status exits 3 when a target cannot be read, and says which', async () => {
    const env = fastlyOnly(
      [...fastlyTarget('cdn', CDN_SERVICE), ...fastlyTarget('ghost', 'GHOST0000service0000001')],
      'ghost',
    );
    Object.assign(env, SLACK);
    const [human, asJson] = await Promise.all([cli(['status'], env), cli(['--json', 'status'], env)]);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/⚠️ ghost +\(fastly\) could not read/);
    expect(human.stderr).toContain('Could not read the live version of ghost');
    expect(asJson.code).toBe(3);
    expect(jsonOf(asJson)).toMatchObject({ ok: false, exitCode: 3, unreadable: ['ghost'] });
  });

  it('doctor fails a KUBECONFIG that names no file, and a missing ~/.kube/config outside a cluster, saying what to do', async () => {
    const kube = ['  web:', '    kind: kubernetes', '    namespace: prod', '    deployment: web'];
    const env = { ...fastlyOnly(kube, 'kube'), ...SLACK };
    const missing = join(dir, 'no-such-kubeconfig');
    const [named, absent] = await Promise.all([cli(['doctor'], { ...env, KUBECONFIG: missing }), cli(['doctor'], env)]);
    expect(named.code).toBe(1);
    expect(named.stdout).toContain(
      `❌ kubeconfig context (current): KUBECONFIG names ${missing}, which does not exist. → Point KUBECONFIG at your cluster's kubeconfig file`,
    );
    expect(absent.code).toBe(1);
    expect(absent.stdout).toContain(
      `❌ kubeconfig context (current): No kubeconfig: ${join(env.HOME, '.kube', 'config')} does not exist and this is not a pod in a cluster. → Set KUBECONFIG`,
    );
    // The target's own line may still name the client's fallback (http://localhost:8080); the kubeconfig line says why.
    expect(absent.stdout).not.toMatch(/✅ kubeconfig/);
  });
});
