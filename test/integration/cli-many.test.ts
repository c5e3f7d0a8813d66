import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleForNode } from '../support/bundle.js';
import { jsonOf, runCli, simulatorEnv } from '../support/cli-process.js';
import { FastlySimulator } from '../support/fastly-simulator.js';
import { deleteKeys } from '../support/redis-keys.js';
import { fastlyTarget, writeRollbackYml } from '../support/rollback-yml.js';
import { SlackSimulator, textOf } from '../support/slack-simulator.js';

/** `rapid-rollback rollback` with several targets or a group: a child process against the simulators and real Redis. */
let cliEntry = '';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CDN_SERVICE = 'SU1Z0isxPaozGVKXdv0eY';
const EDGE_SERVICE = 'EDGE0000service00000001';
const INCIDENT = 'CINC';
const APPROVER = 'UAPP';
const EDGE_APPROVER = 'UEDGE';

beforeAll(async () => {
  cliEntry = await bundleForNode('src/cli/main.ts', 'rapid-rollback-cli-many-test');
});
afterAll(() => {
  if (cliEntry) rmSync(cliEntry, { force: true });
});

const redis = new Redis(REDIS_URL);
afterAll(() => redis.disconnect());
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function world(edgeExtra: string[] = []) {
  const slack = await SlackSimulator.start();
  slack.addChannel({ id: INCIDENT, name: 'incidents', botIsMember: false });
  const fastly = await FastlySimulator.start();
  fastly.addService({ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 });
  fastly.addService({ id: EDGE_SERVICE, name: 'edge-prod', versions: 7, active: 7 });
  const dir = mkdtempSync(join(tmpdir(), 'rr-cli-many-'));
  const file = writeRollbackYml(dir, {
    incidentChannel: INCIDENT,
    approvers: [APPROVER],
    settings: ['groups: { sites: [cdn, edge] }'],
    targets: [...fastlyTarget('cdn', CDN_SERVICE), ...fastlyTarget('edge', EDGE_SERVICE, edgeExtra)],
  });
  const prefix = `rrclim-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const env = simulatorEnv({ slack, fastly, redisUrl: REDIS_URL, prefix, file, extra: { USER: 'alice' } });
  cleanup = async () => {
    await Promise.all([slack.close().catch(() => undefined), fastly.close()]);
    await deleteKeys(redis, prefix);
    rmSync(dir, { recursive: true, force: true });
  };
  return { slack, fastly, env, prefix };
}

describe('rapid-rollback rollback with several targets', { timeout: 180_000 }, () => {
  it('two targets on one approval: one notice naming both versions, both run here at once, each step named, the summary', async () => {
    const w = await world();
    const run = await runCli(
      cliEntry,
      ['rollback', 'cdn', 'edge', '--reason', 'bad config push', '--approved-by', APPROVER, '--yes'],
      w.env,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('⏪ Rollback of cdn + edge: 2 targets, one approval');
    expect(run.stdout).toContain('📣 Posted "Rolling back cdn + edge: cdn to v41, edge to v6"');
    expect(run.stdout).toMatch(/^cdn: .*Activated v41/m);
    expect(run.stdout).toMatch(/^edge: .*Activated v6/m);
    expect(run.stdout).toContain('✅ cdn + edge: 2 of 2 back on their versions, verified.');
    expect(w.fastly.activeVersion(CDN_SERVICE)).toBe(41);
    expect(w.fastly.activeVersion(EDGE_SERVICE)).toBe(6);
    const notice = w.slack.messages(INCIDENT).find((m) => !m.threadTs);
    expect(notice?.text).toBe('Rolling back cdn + edge: cdn to v41, edge to v6');
    const thread = w.slack.thread(INCIDENT, notice?.ts ?? '').map(textOf);
    expect(thread.at(-1)).toMatch(/cdn \+ edge: 2 of 2 back on their versions, verified/);
    // --json: one document, every member's outcome.
    const again = await runCli(
      cliEntry,
      ['--json', 'rollback', 'sites', '--reason', 'again', '--approved-by', APPROVER, '--yes'],
      w.env,
    );
    // Each is on the version a rollback restored: the undo of a rollback is refused, for both, as a whole.
    expect(again.code).toBe(1);
    const doc = jsonOf(again) as { refused: Array<{ target: string; code: string }> };
    expect(doc.refused.map((r) => [r.target, r.code])).toEqual([
      ['cdn', 'UNDO_REFUSED'],
      ['edge', 'UNDO_REFUSED'],
    ]);
  });

  it('the approver must be allowed on every target: refused for edge, told who can; nothing changed and the request is closed', async () => {
    const w = await world([`    approvers: [${EDGE_APPROVER}]`]);
    const run = await runCli(
      cliEntry,
      ['rollback', 'sites', '--reason', 'bad config push', '--approved-by', APPROVER, '--yes'],
      w.env,
    );
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain('--approved-by UAPP: You are not an approver for edge.');
    expect(run.stdout + run.stderr).toContain(`Approvers for edge: @${EDGE_APPROVER}. Nothing was queued.`);
    expect(w.fastly.activeVersion(CDN_SERVICE)).toBe(42);
    expect(w.fastly.activeVersion(EDGE_SERVICE)).toBe(7);
    expect(w.slack.messages(INCIDENT)).toHaveLength(0);
    const doctor = await runCli(cliEntry, ['doctor'], w.env);
    expect(doctor.stdout).toMatch(/✅ config: .*groups sites, approvers @UAPP \(own approvers: edge: @UEDGE\)/);
    const members = await redis.keys(`${w.prefix}:request:*`);
    expect(members).toHaveLength(2);
    for (const key of members) expect(await redis.hget(key, 'state')).toBe('cancelled');
    // --to names one target's version: with several it is a usage error, before anything is read.
    const to = await runCli(
      cliEntry,
      ['rollback', 'cdn', 'edge', '--to', 'v40', '--reason', 'x', '--approved-by', APPROVER, '--yes'],
      w.env,
    );
    expect(to.code).toBe(2);
    expect(to.stderr).toContain("--to names one target's version");
  });
});
