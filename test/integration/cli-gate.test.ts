import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gitSettingsSchema } from '../../src/git/schema.js';
import { GitSymmetry } from '../../src/git/symmetry.js';
import { createLogger } from '../../src/log.js';
import { RedisFreezeStore } from '../../src/store/redis-freeze-store.js';
import { RedisRequestStore } from '../../src/store/redis-request-store.js';
import { bundleForNode } from '../support/bundle.js';
import { jsonOf, runCli, simulatorEnv } from '../support/cli-process.js';
import { FastlySimulator } from '../support/fastly-simulator.js';
import { pushCommit, repository } from '../support/git-repo.js';
import { deleteKeys } from '../support/redis-keys.js';
import { fastlyTarget, writeRollbackYml } from '../support/rollback-yml.js';
import { SlackSimulator, textOf } from '../support/slack-simulator.js';

/**
 * The deploy gate and the freezes from a terminal or a pipeline: the CLI as a child process (bundled once, as in
 * cli.test.ts), against the Slack and Fastly simulators, the real Redis and real git repositories.
 */
let cliEntry = '';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CDN_SERVICE = 'SU1Z0isxPaozGVKXdv0eY';
const EDGE_SERVICE = 'EDGE0000service00000001';
const INCIDENT = 'CINC';
const PEOPLE = { approver: 'UAPP', groupMember: 'UGRP', stranger: 'UOTHER' } as const;
const FREEZE_ID = /fz-[a-z0-9]+-[a-z0-9]+/;

beforeAll(async () => {
  cliEntry = await bundleForNode('src/cli/main.ts', 'rapid-rollback-cli-gate-test');
});
afterAll(() => {
  if (cliEntry) rmSync(cliEntry, { force: true });
});

/** Runs the CLI with only the environment given (and PATH), stdin not a terminal. */
const cli = (args: string[], env: Record<string, string>) => runCli(cliEntry, args, env);

const json = jsonOf;

interface World {
  slack: SlackSimulator;
  fastly: FastlySimulator;
  dir: string;
  env: Record<string, string>;
  prefix: string;
}

let world: World | undefined;
const redis = new Redis(REDIS_URL);

/** cdn's versions name the commits they were built from (v41: the first deploy, v42: the third). */
async function startWorld(cdnGit: (dir: string) => Promise<string[]> = async () => []): Promise<World> {
  const slack = await SlackSimulator.start();
  slack.addChannel({ id: INCIDENT, name: 'incidents', botIsMember: false });
  slack.addUserGroup('S0SRE', [PEOPLE.groupMember]);
  const fastly = await FastlySimulator.start();
  const dir = mkdtempSync(join(tmpdir(), 'rr-cli-gate-'));
  const prefix = `rrgate-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  world = { slack, fastly, dir, env: {}, prefix };
  const gitLines = await cdnGit(dir);
  const comments = gitLines.length > 0 ? gitLines.splice(0, 2) : ['deploy one', 'deploy two'];
  fastly.addService({
    id: CDN_SERVICE,
    name: 'www-prod',
    versions: [{ number: 40 }, { number: 41, comment: comments[0] }, { number: 42, comment: comments[1] }],
    active: 42,
    activationHistory: [40, 41, 42],
  });
  fastly.addService({ id: EDGE_SERVICE, name: 'edge-prod', versions: 7, active: 7 });
  const file = writeRollbackYml(dir, {
    incidentChannel: INCIDENT,
    approvers: [PEOPLE.approver, 'S0SRE'],
    targets: [...fastlyTarget('cdn', CDN_SERVICE, gitLines), ...fastlyTarget('edge', EDGE_SERVICE)],
  });
  world.env = simulatorEnv({
    slack,
    fastly,
    redisUrl: REDIS_URL,
    prefix,
    file,
    extra: { GIT_CACHE_DIR: join(dir, 'cache'), USER: 'alice' },
  });
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

/**
 * What the "Create revert branch" follow-up does once a worker runs it (run-rollback's runFollowUp): the revert
 * branch pushed by GitSymmetry, then noted on the rollback's freeze. The CLI has no command for it.
 */
async function createRevertBranch(
  w: World,
  bare: string,
  requestId: string,
): Promise<{ commit: string; branch: string }> {
  const request = await new RedisRequestStore(redis, { prefix: w.prefix }).get(requestId);
  if (!request?.approver || request.approvedAt === undefined) throw new Error(`${requestId} was not approved`);
  const symmetry = new GitSymmetry(
    new Map([['cdn', gitSettingsSchema.parse({ repo: bare, branch: 'main' })]]),
    join(w.dir, 'bot-cache'),
  );
  const log = createLogger({ level: 'silent' });
  const result = await symmetry.run(
    { log, signal: AbortSignal.timeout(60_000), report: () => undefined },
    {
      requestId,
      plan: request.plan,
      requester: request.requester,
      approver: request.approver,
      approvedAt: request.approvedAt,
      reason: request.reason,
    },
  );
  if (!result.revert) throw new Error(`no revert branch: ${result.detail}`);
  expect(await new RedisFreezeStore(redis, { prefix: w.prefix }).attachRevert('cdn', requestId, result.revert)).toBe(
    true,
  );
  return result.revert;
}

// Each test starts CLI processes, several one after another; the limit is for a hang, not a measure of speed.
describe('rapid-rollback gate, freeze and unfreeze', { timeout: 360_000 }, () => {
  it('after a CLI rollback, gate lets out only a commit that contains the revert: exit 0, 1, 2 and 3, text and JSON', async () => {
    let repo: { bare: string; work: string; shas: string[] } | undefined;
    const w = await startWorld(async (dir) => {
      repo = await repository(dir);
      return [
        `deploy ${repo.shas[0]}`,
        `deploy ${repo.shas[2]}`,
        '    git:',
        `      repo: ${repo.bare}`,
        '      branch: main',
      ];
    });
    const { bare, work, shas } = repo!;
    const main = shas[2]!;

    // Before any rollback: deployable. An unknown target and a Redis nobody answers say so, with their codes.
    const [open, typo, noRedis] = await Promise.all([
      cli(['--json', 'gate', 'cdn', '--commit', main], w.env),
      cli(['gate', 'cnd'], w.env),
      cli(['gate', 'cdn', '--commit', main], { ...w.env, REDIS_URL: 'redis://127.0.0.1:1' }),
    ]);
    expect(open.code).toBe(0);
    expect(json(open)).toEqual({ target: 'cdn', deployable: true, frozen: false, commit: main });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('There is no target called "cnd". Did you mean `cdn`?');
    expect(noRedis.code).toBe(3);
    expect(noRedis.stderr).toContain('Redis does not answer at redis://127.0.0.1:1');

    const rollback = await cli(
      ['rollback', 'cdn', '--reason', 'elevated 5xx after deploy', '--approved-by', PEOPLE.approver, '--yes'],
      w.env,
    );
    expect(rollback.code).toBe(0);
    const id = /request (rb-[a-z0-9]+-[a-z0-9]+)/.exec(rollback.stdout)![1]!;
    // The freeze is a step of the rollback as it runs.
    expect(rollback.stdout).toContain(
      "   🔒 cdn is frozen: until an approved `rapid-rollback unfreeze cdn --reason <why> --approved-by <user-id>`, the deploy gate lets out only a commit that contains this rollback's revert.",
    );
    expect(rollback.stdout.indexOf('🔒 cdn is frozen')).toBeLessThan(rollback.stdout.indexOf('back on v41'));

    // Frozen, no revert branch yet: nothing goes out, whatever the commit.
    const [frozen, frozenJson] = await Promise.all([
      cli(['gate', 'cdn'], w.env),
      cli(['--json', 'gate', 'cdn', '--commit', main], w.env),
    ]);
    expect(frozen.code).toBe(1);
    expect(frozen.stdout).toMatch(
      new RegExp(
        `^🔒 Not deployable to cdn: cdn is frozen since \\d\\d:\\d\\d UTC after rollback ${id} \\(v42 → v41\\)\\.\n`,
      ),
    );
    expect(frozen.stdout).toContain(
      "   Lifts with: a revert branch (Create revert branch, in the rollback's thread), then a deploy of a commit built on it; or an approved `rapid-rollback unfreeze cdn --reason <why> --approved-by <user-id>`.",
    );
    expect(frozen.stderr).toBe('');
    expect(frozenJson.code).toBe(1);
    const refusal = json(frozenJson);
    expect(refusal).toMatchObject({ target: 'cdn', deployable: false, frozen: true, commit: main, request: id });
    expect(Object.keys(refusal).sort()).toEqual(
      ['commit', 'deployable', 'frozen', 'lift', 'reason', 'request', 'since', 'target'].sort(),
    );
    expect(new Date(refusal.since as string).toISOString()).toBe(refusal.since);
    expect(refusal.reason).toMatch(/^cdn is frozen since \d\d:\d\d UTC after rollback/);
    expect(refusal.lift).toContain('`rapid-rollback unfreeze cdn --reason <why> --approved-by <user-id>`');

    const revert = await createRevertBranch(w, bare, id);
    expect(revert.branch).toBe(`rollback/cdn-${id}`);
    const onRevert = await pushCommit(work, `origin/${revert.branch}`, 'fix/on-revert', 'fix.vcl');
    const forward = await pushCommit(work, 'origin/main', 'fix/forward', 'forward.vcl');

    const [atMain, atMainAgain, built, fixForward, notHex, notInRepo, builtJson, notHexJson] = await Promise.all([
      cli(['gate', 'cdn', '--commit', main], w.env),
      cli(['gate', 'cdn', '--commit', main.toUpperCase()], w.env),
      cli(['gate', 'cdn', '--commit', onRevert], w.env),
      cli(['gate', 'cdn', '--commit', forward.slice(0, 12)], w.env),
      cli(['gate', 'cdn', '--commit', 'nothex'], w.env),
      cli(['gate', 'cdn', '--commit', 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef'], w.env),
      cli(['--json', 'gate', 'cdn', '--commit', onRevert], w.env),
      cli(['--json', 'gate', 'cdn', '--commit', 'nothex'], w.env),
    ]);
    const short = (sha: string) => sha.slice(0, 7);
    for (const run of [atMain, atMainAgain]) {
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        `🔒 Not deployable to cdn: ${short(main)} does not contain the revert ${short(revert.commit)} (branch ${revert.branch}) of rollback ${id}: deploying it would bring back what the rollback took out.`,
      );
      expect(run.stdout).toContain(
        `   Lifts with: a deploy of a commit that contains the revert ${short(revert.commit)} (branch ${revert.branch}), or an approved`,
      );
    }
    expect(built.code).toBe(0);
    expect(built.stdout).toBe(
      `✅ Deployable to cdn: ${short(onRevert)} contains the revert ${short(revert.commit)} of rollback ${id}.\n`,
    );
    expect(fixForward.code).toBe(1);
    expect(fixForward.stdout).toContain(`${short(forward)} does not contain the revert ${short(revert.commit)}`);
    expect(notHex.code).toBe(2);
    expect(notHex.stdout).toBe('');
    expect(notHex.stderr).toContain('❌ "nothex" is not a commit sha.');
    expect(notInRepo.code).toBe(2);
    expect(notInRepo.stderr).toContain(`There is no commit deadbeefdeadbeefdeadbeefdeadbeefdeadbeef in ${bare}`);
    expect(builtJson.code).toBe(0);
    expect(json(builtJson)).toEqual({
      target: 'cdn',
      deployable: true,
      frozen: true,
      commit: onRevert,
      reason: `${short(onRevert)} contains the revert ${short(revert.commit)} of rollback ${id}`,
      request: id,
      since: expect.any(String),
    });
    expect(notHexJson.code).toBe(2);
    expect(json(notHexJson)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'COMMIT_UNKNOWN' } });

    // A refused commit is said once in the rollback's thread, however often (and however spelt) it is asked.
    const notice = w.slack.messages(INCIDENT).find((m) => !m.threadTs)!;
    const refusals = w.slack
      .thread(INCIDENT, notice.ts)
      .map(textOf)
      .filter((t) => t.includes('was refused'));
    expect(refusals.filter((t) => t.includes(short(main)))).toHaveLength(1);
    expect(refusals.filter((t) => t.includes(short(forward)))).toHaveLength(1);
    expect(refusals).toHaveLength(2);

    // Slack down: the gate answers all the same (the thread hears nothing). git unreachable: it cannot tell, exit 3.
    const unreachableYml = writeRollbackYml(mkdtempSync(join(w.dir, 'elsewhere-')), {
      incidentChannel: INCIDENT,
      approvers: [PEOPLE.approver],
      targets: fastlyTarget('cdn', CDN_SERVICE, ['    git:', '      repo: https://127.0.0.1:1/cdn-config.git']),
    });
    const [noSlack, noGit] = await Promise.all([
      cli(['gate', 'cdn', '--commit', shas[1]!], { ...w.env, SLACK_API_URL: 'http://127.0.0.1:1/api/' }),
      cli(['gate', 'cdn', '--commit', onRevert], { ...w.env, ROLLBACK_CONFIG: unreachableYml }),
    ]);
    expect(noSlack.code).toBe(1);
    expect(noSlack.stdout).toContain(`🔒 Not deployable to cdn: ${short(shas[1]!)} does not contain the revert`);
    expect(noSlack.stderr).toBe('');
    expect(noGit.code).toBe(3);
    expect(noGit.stderr).toContain(`The gate could not check whether ${short(onRevert)} contains the revert`);

    // A member of a listed user group (Slack answers) lifts it; then anything goes out, and the thread says so.
    const lifted = await cli(
      ['unfreeze', 'cdn', '--reason', 'fix forward instead', '--approved-by', PEOPLE.groupMember, '--yes'],
      w.env,
    );
    expect(lifted.code).toBe(0);
    expect(lifted.stdout).toContain(
      '🔓 cdn is no longer frozen: unfreeze approved by @UGRP, asked for by cli:alice: fix forward instead.',
    );
    const after = await cli(['gate', 'cdn', '--commit', forward], w.env);
    expect(after.code).toBe(0);
    expect(after.stdout).toBe('✅ Deployable to cdn: it is not frozen.\n');
    expect(
      w.slack
        .thread(INCIDENT, notice.ts)
        .map(textOf)
        .some((t) => t.includes('cdn is no longer frozen')),
    ).toBe(true);
  });

  it('freeze and unfreeze by hand: exit codes, the approver rules, and what status and history show', async () => {
    const w = await startWorld();
    const frozen = await cli(['freeze', 'edge', '--reason', 'payment provider migration'], w.env);
    expect(frozen.stderr).toBe('');
    expect(frozen.code).toBe(0);
    expect(frozen.stdout).toMatch(
      /^🔒 edge is frozen by hand by cli:alice since \d\d:\d\d UTC: "payment provider migration" \(fz-[a-z0-9]+-[a-z0-9]+\)\.\n/,
    );
    expect(frozen.stdout).toContain(
      '   The deploy gate refuses every deploy until an approved `rapid-rollback unfreeze edge --reason <why> --approved-by <user-id>`.',
    );
    const freezeId = FREEZE_ID.exec(frozen.stdout)![0];

    const [again, gate, self, stranger, unconfirmed, notFrozen, status, statusJson] = await Promise.all([
      cli(['freeze', 'edge', '--reason', 'again', '--by', PEOPLE.approver], w.env),
      cli(['gate', 'edge', '--commit', 'abc1234'], w.env),
      cli(
        [
          'unfreeze',
          'edge',
          '--reason',
          'done',
          '--requested-by',
          PEOPLE.approver,
          '--approved-by',
          PEOPLE.approver,
          '--yes',
        ],
        w.env,
      ),
      cli(['--json', 'unfreeze', 'edge', '--reason', 'done', '--approved-by', PEOPLE.stranger, '--yes'], w.env),
      cli(['unfreeze', 'edge', '--reason', 'done', '--approved-by', PEOPLE.approver], w.env),
      cli(['unfreeze', 'cdn', '--reason', 'done', '--approved-by', PEOPLE.approver, '--yes'], w.env),
      cli(['status'], w.env),
      cli(['--json', 'status'], w.env),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('❌ edge is already frozen: frozen by hand by cli:alice');
    // A target without git settings: nothing goes out, whichever commit.
    expect(gate.code).toBe(1);
    expect(gate.stdout).toContain('🔒 Not deployable to edge: edge is frozen by hand by cli:alice since');
    expect(self.code).toBe(1);
    expect(self.stderr).toContain(
      '❌ --approved-by UAPP: You asked for this unfreeze, so someone else must approve it.',
    );
    expect(stranger.code).toBe(1);
    expect(json(stranger)).toMatchObject({
      ok: false,
      exitCode: 1,
      error: { code: 'NOT_AUTHORIZED', message: '--approved-by UOTHER: You are not an approver for unfreezes.' },
    });
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('stdin is not a terminal');
    expect(notFrozen.code).toBe(1);
    expect(notFrozen.stderr).toContain('❌ cdn is not frozen: deploys go through the gate.');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(
        `• edge +v7 — Fastly service edge-prod .*\n +🔒 frozen since \\d\\d:\\d\\d UTC by ${freezeId} \\(by hand, cli:alice: "payment provider migration"\\) — lifts with: an approved \`rapid-rollback unfreeze edge`,
      ),
    );
    expect(status.stdout).not.toMatch(/• cdn .*\n +🔒/);
    const targets = (json(statusJson) as { targets: Array<{ name: string; frozen?: Record<string, unknown> }> })
      .targets;
    expect(targets.find((t) => t.name === 'cdn')?.frozen).toBeUndefined();
    expect(targets.find((t) => t.name === 'edge')?.frozen).toEqual({
      request: freezeId,
      cause: 'manual',
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      by: 'cli:alice',
      reason: 'payment provider migration',
      lift: 'an approved `rapid-rollback unfreeze edge --reason <why> --approved-by <user-id>`',
    });

    // Every refused unfreeze was closed: the freeze still holds until an approver lifts it.
    const lifted = await cli(
      ['unfreeze', 'edge', '--reason', 'migration done', '--approved-by', PEOPLE.approver, '--yes'],
      w.env,
    );
    expect(lifted.code).toBe(0);
    const [open, history, historyJson, twice] = await Promise.all([
      cli(['gate', 'edge'], w.env),
      cli(['history'], w.env),
      cli(['--json', 'history', 'edge'], w.env),
      cli(['unfreeze', 'edge', '--reason', 'x', '--approved-by', PEOPLE.approver, '--yes'], w.env),
    ]);
    expect(open.code).toBe(0);
    expect(twice.code).toBe(1);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain('No rollbacks on record.\n\nFreezes that ended\n');
    expect(history.stdout).toMatch(
      new RegExp(
        `🔓 \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC → (\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d UTC {2}edge frozen by ${freezeId} \\(by hand, cli:alice: "payment provider migration"\\): unfreeze approved by @UAPP, asked for by cli:alice: migration done`,
      ),
    );
    const ended = (json(historyJson) as { freezes: Array<Record<string, unknown>> }).freezes;
    expect(ended).toEqual([
      expect.objectContaining({
        target: 'edge',
        request: freezeId,
        cause: 'manual',
        lifted: expect.objectContaining({
          by: PEOPLE.approver,
          how: 'unfreeze',
          why: 'unfreeze approved by @UAPP, asked for by cli:alice: migration done',
          requester: 'cli:alice',
          request: expect.stringMatching(/^uf-/),
        }),
      }),
    ]);
    // Nothing of this touched a provider.
    expect(w.fastly.activations).toEqual([]);
  });
});
