import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleForNode } from '../support/bundle.js';
import { type CliRun, jsonOf, runCli, simulatorEnv } from '../support/cli-process.js';
import { FastlySimulator } from '../support/fastly-simulator.js';
import { deleteKeys } from '../support/redis-keys.js';
import { fastlyTarget, writeRollbackYml } from '../support/rollback-yml.js';
import { SlackSimulator, textOf } from '../support/slack-simulator.js';

/**
 * The CLI as people run it: a child process, its stdout, stderr and exit code, against the Slack and
 * Fastly simulators (in this process) and the real Redis.
 *
 * src/cli/main.ts is bundled once with its dependencies: a process then starts in about 1 s instead of
 * about 2 s (resolving thousands of files in node_modules is most of a start-up), and this file runs
 * fifteen of them. What ships is dist/cli/main.js loading node_modules; the code is the same.
 */
let cliEntry = '';
// The harness's names; not imported from it, since it loads the whole app into this process.
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CDN_SERVICE = 'SU1Z0isxPaozGVKXdv0eY';
const EDGE_SERVICE = 'EDGE0000service00000001';
const CHANNELS = { incident: 'CINC' } as const;
const PEOPLE = { approver: 'UAPP', groupMember: 'UGRP', stranger: 'UOTHER' } as const;

beforeAll(async () => {
  cliEntry = await bundleForNode('src/cli/main.ts', 'rapid-rollback-cli-test');
});
afterAll(() => {
  if (cliEntry) rmSync(cliEntry, { force: true });
});

/** Runs the CLI with only the environment given (and PATH), stdin not a terminal. */
const cli = (args: string[], env: Record<string, string>, cwd?: string) => runCli(cliEntry, args, env, cwd);

interface World {
  slack: SlackSimulator;
  fastly: FastlySimulator;
  dir: string;
  file: string;
  env: Record<string, string>;
  prefix: string;
}

let world: World | undefined;
const redis = new Redis(REDIS_URL);

async function startWorld(): Promise<World> {
  const slack = await SlackSimulator.start();
  slack.addChannel({ id: CHANNELS.incident, name: 'incidents', botIsMember: false });
  slack.addUserGroup('S0SRE', [PEOPLE.groupMember]);
  const fastly = await FastlySimulator.start();
  fastly.addService({ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 });
  fastly.addService({ id: EDGE_SERVICE, name: 'edge-prod', versions: 7, active: 7 });
  const dir = mkdtempSync(join(tmpdir(), 'rr-cli-'));
  const file = writeRollbackYml(dir, {
    incidentChannel: CHANNELS.incident,
    approvers: [PEOPLE.approver, 'S0SRE'],
    targets: [...fastlyTarget('cdn', CDN_SERVICE), ...fastlyTarget('edge', EDGE_SERVICE)],
  });
  const prefix = `rrcli-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const env = simulatorEnv({ slack, fastly, redisUrl: REDIS_URL, prefix, file, extra: { USER: 'alice' } });
  world = { slack, fastly, dir, file, env, prefix };
  return world;
}

afterEach(async () => {
  if (!world) return;
  const { slack, fastly, prefix, dir } = world;
  world = undefined;
  await Promise.all([slack.close().catch(() => undefined), fastly.close()]);
  await deleteKeys(redis, prefix);
  rmSync(dir, { recursive: true, force: true });
});
afterAll(() => redis.disconnect());

const json = jsonOf;

function noSecrets(w: World, ...runs: CliRun[]): void {
  for (const run of runs) {
    for (const secret of [w.slack.botToken, w.fastly.token]) expect(run.stdout + run.stderr).not.toContain(secret);
  }
}

// Each test starts CLI processes, several one after another: about 3 s each on an idle two-core machine,
// several times that beside other work. The limit is for a hang, not a measure of speed.
describe('rapid-rollback CLI', { timeout: 180_000 }, () => {
  it('plan prints the pinned plan and changes nothing; an unknown target or a Redis nobody answers say what to do', async () => {
    const w = await startWorld();
    const [human, asJson, typo, noRedis] = await Promise.all([
      cli(['plan', 'cdn'], w.env),
      // --config wins over ROLLBACK_CONFIG.
      cli(['--json', 'plan', 'cdn', '--config', w.file], { ...w.env, ROLLBACK_CONFIG: join(w.dir, 'missing.yml') }),
      cli(['plan', 'cnd'], w.env),
      cli(['status'], { ...w.env, REDIS_URL: 'redis://:hunter2@127.0.0.1:1' }),
    ]);

    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Plan: cdn v42 → v41 (nothing was changed)');
    expect(human.stdout).toContain('Fastly service www-prod (SU1Z0isxPaozGVKXdv0eY)');
    expect(human.stdout).toMatch(/Live now: v42\n/);
    expect(human.stdout).toContain('Restore:  v41  📌 pinned');
    expect(human.stdout).toContain('Why:      Chosen from the activation history');
    expect(human.stdout).toContain('1. Check that v42 is still the active version of www-prod');
    expect(human.stdout).toContain('2. Activate v41');
    expect(human.stdout).toContain('rapid-rollback rollback cdn --reason');
    // Fastly's diff of the two versions, summarised (each simulated version's snippet names its number).
    expect(human.stdout).toContain(
      '  What changes:\n    Diff v42 → v41\n      +1 −1 lines\n      snippets: service_version\n',
    );

    expect(asJson.code).toBe(0);
    const doc = json(asJson) as {
      ok: boolean;
      plan: { from: { label: string }; to: { label: string }; selection: string; steps: string[] };
      refusals: string[];
    };
    expect(doc.ok).toBe(true);
    expect(doc.plan).toMatchObject({ from: { label: 'v42' }, to: { label: 'v41' }, selection: 'history' });
    expect(doc.plan.steps).toHaveLength(3);
    expect(doc.plan).toMatchObject({
      changes: [{ kind: 'config-diff', added: 1, removed: 1, objects: [{ type: 'snippet', name: 'service_version' }] }],
    });
    expect(doc.refusals).toEqual([]);

    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain('There is no target called "cnd". Did you mean `cdn`?');
    expect(typo.stderr).not.toMatch(/\n\s+at /);

    expect(noRedis.code).toBe(3);
    expect(noRedis.stderr).toContain('Redis does not answer at redis://***@127.0.0.1:1');
    expect(noRedis.stderr).toContain('Start it (`redis-server`) or set REDIS_URL');
    expect(noRedis.stderr).not.toContain('hunter2');

    expect(w.fastly.activations).toEqual([]);
    expect(await redis.keys(`${w.prefix}*`)).toEqual([]);
    expect(w.slack.callsTo('chat.postMessage')).toEqual([]);
  });

  it('rollback activates exactly once, streams the steps, posts the notice and its thread; history, record and status show it', async () => {
    const w = await startWorld();
    const run = await cli(
      ['rollback', 'cdn', '--reason', 'elevated 5xx after deploy', '--approved-by', PEOPLE.approver, '--yes'],
      w.env,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toContain('⏪ Rollback of cdn: v42 → v41');
    expect(out).toContain('Requested by cli:alice, to be approved by UAPP · Reason: elevated 5xx after deploy');
    expect(out).toContain('📣 Posted "Rolling back cdn to v41" in #CINC');
    expect(out).toMatch(/ℹ️ Worker started \d+ ms after approval\./);
    expect(out).toMatch(/✅ Checked: v42 is live on Fastly service www-prod/);
    expect(out).toMatch(/✅ Activated v41 \(\d+ ms\)/);
    expect(out).toMatch(/✅ Verify active version: Fastly reports v41 active/);
    expect(out).toMatch(
      /✅ cdn is back on v41, verified\. [\d.]+ m?s from approval, within the runbook's 60 s target\./,
    );
    // The steps come in the order they happened, before the outcome.
    expect(out.indexOf('Checked: v42')).toBeLessThan(out.indexOf('Activated v41'));
    expect(out.indexOf('Activated v41')).toBeLessThan(out.indexOf('back on v41'));
    expect(w.fastly.activations).toEqual([expect.objectContaining({ serviceId: CDN_SERVICE, version: 41 })]);

    const notice = w.slack.messages(CHANNELS.incident).find((m) => !m.threadTs);
    expect(notice?.text).toBe('Rolling back cdn to v41');
    expect(textOf(notice!)).toContain('done in');
    const thread = w.slack.thread(CHANNELS.incident, notice!.ts).map(textOf);
    expect(thread.some((t) => /✅ Activated v41/.test(t))).toBe(true);
    expect(thread.some((t) => /back on v41\*, verified/.test(t))).toBe(true);

    const id = /request (rb-[a-z0-9]+-[a-z0-9]+)/.exec(out)?.[1];
    expect(id).toBeDefined();
    const [history, record, status] = await Promise.all([
      cli(['history', '--json'], w.env),
      cli(['record', id!], w.env),
      cli(['status'], w.env),
    ]);

    expect(history.code).toBe(0);
    const rollbacks = (json(history) as { rollbacks: Array<Record<string, unknown>> }).rollbacks;
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({
      requestId: id,
      target: 'cdn',
      state: 'succeeded',
      requester: 'cli:alice',
      approver: 'UAPP',
      from: { label: 'v42' },
      to: { label: 'v41' },
    });
    expect(rollbacks[0]?.durationMs).toEqual(expect.any(Number));

    expect(record.code).toBe(0);
    expect(record.stdout).toContain('# Rollback of cdn: v42 → v41');
    expect(record.stdout).toContain(`- Request: \`${id}\` (succeeded)`);
    expect(record.stdout).toMatch(/\| ✅ step: Activated v41 \| \d+ ms \|/);
    expect(record.stdout).toContain('Approved by: @UAPP');

    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/• cdn +v41 — Fastly service www-prod/);
    expect(status.stdout).toContain('⚠️ diverged from git since the rollback from v42');
    expect(status.stdout).toMatch(/• edge +v7 — Fastly service edge-prod/);
    noSecrets(w, run, history, record, status);
  });

  it('with Slack unreachable it still rolls back and says so; only approvers listed by ID count then', async () => {
    const w = await startWorld();
    await w.slack.close();
    // Two targets, so that the refusal and the rollback do not meet on one target's lock.
    const [run, group] = await Promise.all([
      cli(['rollback', 'cdn', '--reason', 'slack is down too', '--approved-by', PEOPLE.approver, '--yes'], w.env),
      cli(['rollback', 'edge', '--reason', 'slack is down too', '--approved-by', PEOPLE.groupMember, '--yes'], w.env),
    ]);
    expect(run.code).toBe(0);
    // Refused at once, or (the CLI's start-up holding its event loop on a loaded machine) past the probe's 3 s:
    // either way the CLI says Slack was unreachable, and carries on.
    expect(run.stdout).toMatch(/⚠️ Slack was unreachable \(Slack did not answer (at |within 3 s)/);
    expect(run.stdout).toContain('no notice in #CINC, no thread');
    expect(run.stdout).toMatch(/✅ Activated v41/);
    expect(run.stdout).toContain('✅ cdn is back on v41, verified.');
    expect(w.fastly.activations).toEqual([expect.objectContaining({ serviceId: CDN_SERVICE, version: 41 })]);

    expect(group.code).toBe(1);
    expect(group.stderr).toContain('--approved-by UGRP: UGRP is not listed by user ID, and Slack did not answer');
    expect(group.stderr).toContain('membership of @S0SRE cannot be checked');
    expect(group.stderr).toContain('While Slack is unreachable only approvers listed by user ID count: @UAPP.');
    expect(w.fastly.activeVersion(EDGE_SERVICE)).toBe(7);
  });

  it('--no-wait only queues; a rollback run here runs only its own job; resume runs the waiting one under its lock', async () => {
    const w = await startWorld();
    const queued = await cli(
      ['rollback', 'edge', '--reason', 'queued for later', '--approved-by', PEOPLE.approver, '--yes', '--no-wait'],
      w.env,
    );
    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(
      /⏳ Queued rb-[a-z0-9-]+\. A bot worker runs it; if none is up it waits in the queue/,
    );
    const edgeId = /Queued (rb-[a-z0-9-]+)/.exec(queued.stdout)![1]!;
    expect(w.fastly.activations).toEqual([]);

    // The waiting rollback holds its target: the CLI says how to run it.
    const again = await cli(['rollback', 'edge', '--reason', 'x', '--approved-by', PEOPLE.approver, '--yes'], w.env);
    expect(again.code).toBe(1);
    expect(again.stdout + again.stderr).toContain(`rapid-rollback resume ${edgeId}`);

    const run = await cli(['rollback', 'cdn', '--reason', 'x', '--approved-by', PEOPLE.approver, '--yes'], w.env);
    expect(run.code).toBe(0);
    expect(w.fastly.activeVersion(CDN_SERVICE)).toBe(41);
    // Not taken by the cdn run: a CLI worker takes only the job it queued.
    expect(w.fastly.activeVersion(EDGE_SERVICE)).toBe(7);

    const resumed = await cli(['resume', edgeId, '--yes'], w.env);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`Took ${edgeId} off the bot's queue; running it here`);
    expect(w.fastly.activeVersion(EDGE_SERVICE)).toBe(6);
    // The waiting job reported in its own thread, under the notice the first command posted.
    const edgeNotice = w.slack.messages(CHANNELS.incident).find((m) => m.text === 'Rolling back edge to v6');
    expect(w.slack.thread(CHANNELS.incident, edgeNotice!.ts).some((m) => /back on v6/.test(textOf(m)))).toBe(true);
    // Done once: a second resume has nothing to run.
    const twice = await cli(['resume', edgeId, '--yes'], w.env);
    expect(twice.code).toBe(1);
    expect(twice.stdout + twice.stderr).toContain('is succeeded');
    expect(w.fastly.activations.filter((a) => a.serviceId === EDGE_SERVICE)).toHaveLength(1);
    // Five CLI processes one after another: each starts Node, loads the config and connects to Redis.
  }, 90_000);

  it("--approved-by follows a target's own approvers: the file's approver is refused for edge and told who can", async () => {
    const w = await startWorld();
    writeRollbackYml(w.dir, {
      incidentChannel: CHANNELS.incident,
      approvers: [PEOPLE.approver, 'S0SRE'],
      targets: [...fastlyTarget('cdn', CDN_SERVICE), ...fastlyTarget('edge', EDGE_SERVICE, ['    approvers: [UEDGE]'])],
    });
    const refused = await cli(
      ['--json', 'rollback', 'edge', '--reason', 'x', '--approved-by', PEOPLE.approver, '--yes'],
      w.env,
    );
    expect(refused.code).toBe(1);
    expect(json(refused)).toMatchObject({
      ok: false,
      error: {
        code: 'NOT_AUTHORIZED',
        message: '--approved-by UAPP: You are not an approver for edge.',
        hint: 'Approvers for edge: @UEDGE. Nothing was queued.',
      },
    });
    expect(w.fastly.activations).toEqual([]);

    const approved = await cli(['rollback', 'edge', '--reason', 'x', '--approved-by', 'UEDGE', '--yes'], w.env);
    expect(approved.code).toBe(0);
    expect(w.fastly.activations).toMatchObject([{ serviceId: EDGE_SERVICE, version: 6 }]);
  }, 60_000);

  it('refuses self-approval, an approver who is not listed, and a rollback nobody confirmed; nothing is activated', async () => {
    const w = await startWorld();
    const [self, stranger, unconfirmed] = await Promise.all([
      cli(
        [
          'rollback',
          'cdn',
          '--reason',
          'x',
          '--requested-by',
          PEOPLE.approver,
          '--approved-by',
          PEOPLE.approver,
          '--yes',
        ],
        w.env,
      ),
      cli(['--json', 'rollback', 'cdn', '--reason', 'x', '--approved-by', PEOPLE.stranger, '--yes'], w.env),
      cli(['rollback', 'cdn', '--reason', 'x', '--approved-by', PEOPLE.approver], w.env),
    ]);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain(
      '❌ --approved-by UAPP: You asked for this rollback, so someone else must approve it.',
    );
    expect(self.stderr).toContain('Ask one of: @UAPP, @S0SRE.');

    expect(stranger.code).toBe(1);
    expect(json(stranger)).toMatchObject({
      ok: false,
      exitCode: 1,
      error: {
        code: 'NOT_AUTHORIZED',
        message: '--approved-by UOTHER: You are not an approver for rollbacks.',
        hint: 'Approvers: @UAPP, @S0SRE. Nothing was queued.',
      },
    });
    // Group membership was asked of Slack, since Slack answers.
    expect(w.slack.callsTo('usergroups.users.list').length).toBeGreaterThan(0);

    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('stdin is not a terminal');
    expect(unconfirmed.stderr).toContain('run the same command with --yes');

    expect(w.fastly.activations).toEqual([]);
    expect(w.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(await redis.keys(`${w.prefix}:lock:*`)).toEqual([]);
    // The refused requests are closed, not left open for an approval that cannot come.
    const states = await Promise.all(
      (await redis.keys(`${w.prefix}:request:*`)).map((key) => redis.hget(key, 'state')),
    );
    expect(states).toEqual(['cancelled', 'cancelled']);
  });

  it('doctor: every check green from a .env file, exit 0; a wrong Fastly token fails its line with what to fix, exit 1', async () => {
    const w = await startWorld();
    writeFileSync(
      join(w.dir, '.env'),
      Object.entries(w.env)
        .map(([key, value]) => `${key}=${value}`)
        .join('\n'),
    );
    const [good, bad] = await Promise.all([
      cli(['doctor'], {}, w.dir),
      cli(['doctor'], { ...w.env, FASTLY_API_TOKEN: 'wrong-token' }),
    ]);

    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    const lines = good.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^✅ config: .*rollback\.yml: 2 targets \(cdn, edge\), approvers @UAPP, @S0SRE, incident channel CINC$/,
    );
    expect(good.stdout).toMatch(/✅ Redis: redis:\/\/127\.0\.0\.1:6379 answers \(\d+ ms\)/);
    expect(good.stdout).toContain('✅ Slack token: team "Simulated Workspace", bot "rapid-rollback" (UBOT)');
    expect(good.stdout).toContain(
      '✅ incident channel: #incidents (CINC), public; the bot joins it with the first notice',
    );
    expect(good.stdout).toContain('✅ cdn (fastly): Fastly service www-prod (SU1Z0isxPaozGVKXdv0eY) is live on v42');
    expect(good.stdout).toContain('✅ edge (fastly): Fastly service edge-prod');
    expect(good.stdout).not.toContain('❌');

    expect(bad.code).toBe(1);
    const cdnLine = bad.stdout.split('\n').find((l) => l.includes('cdn (fastly)'));
    expect(cdnLine).toMatch(
      /^❌ cdn \(fastly\): Fastly refused the token \(HTTP 401.*→ Check that FASTLY_API_TOKEN has global or engineer scope/,
    );
    expect(bad.stdout).toContain('✅ Slack token');
    expect(bad.stdout).toContain('2 checks failed');
    noSecrets(w, good, bad);
    expect(bad.stdout + bad.stderr).not.toContain('wrong-token');
  });
});
