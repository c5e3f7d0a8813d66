import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log.js';
import { buildCore } from '../../src/wiring.js';
import { bundleForNode } from '../support/bundle.js';
import { runCli, simulatorEnv } from '../support/cli-process.js';
import { FastlySimulator } from '../support/fastly-simulator.js';
import { deleteKeys } from '../support/redis-keys.js';
import { fastlyTarget, writeRollbackYml } from '../support/rollback-yml.js';
import { SlackSimulator, textOf } from '../support/slack-simulator.js';

/**
 * `rapid-rollback approve <id> --break-glass <target>`: the CLI as people run it (a child process), on a request
 * made the way the Slack app makes them (the same core, on the real Redis), eleven minutes ago or just now.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CDN_SERVICE = 'SU1Z0isxPaozGVKXdv0eY';
const WORDS = 'self-approved after 10 min without an approver (break-glass)';

let cliEntry = '';
const redis = new Redis(REDIS_URL);
beforeAll(async () => {
  cliEntry = await bundleForNode('src/cli/main.ts', 'rapid-rollback-cli-break-glass-test');
});
afterAll(() => {
  if (cliEntry) rmSync(cliEntry, { force: true });
  redis.disconnect();
});

describe('rapid-rollback approve --break-glass', { timeout: 180_000 }, () => {
  it("refuses the requester before selfApprovalAfter with when, and after it needs the target's name; the record says so", async () => {
    const slack = await SlackSimulator.start();
    slack.addChannel({ id: 'CINC', name: 'incidents' });
    const fastly = await FastlySimulator.start();
    fastly.addService({ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 });
    const dir = mkdtempSync(join(tmpdir(), 'rr-cli-bg-'));
    const file = writeRollbackYml(dir, {
      incidentChannel: 'CINC',
      approvers: ['UAPP'],
      settings: ['selfApprovalAfter: 10m'],
      targets: fastlyTarget('cdn', CDN_SERVICE),
    });
    const prefix = `rrclibg-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const env = simulatorEnv({ slack, fastly, redisUrl: REDIS_URL, prefix, file });
    const config = loadConfig({ ...env, SLACK_SIGNING_SECRET: 's' });
    const ask = async (minutesAgo: number) => {
      const core = await buildCore(config, createLogger({ level: 'silent' }), {
        directory: { isApprover: async (user, approvers) => approvers.includes(user) },
        now: () => Date.now() - minutesAgo * 60_000,
      });
      try {
        const origin = { channel: 'CINC' };
        return await core.service.request({ target: 'cdn', reason: 'elevated 5xx', requester: 'UREQ', origin });
      } finally {
        await core.close();
      }
    };
    try {
      const fresh = await ask(0);
      const early = await runCli(
        cliEntry,
        ['approve', fresh.id, '--approved-by', 'UREQ', '--break-glass', 'cdn', '--yes'],
        env,
      );
      expect(early.code).toBe(1);
      const from = new Date(fresh.createdAt + 10 * 60_000).toISOString().slice(11, 16);
      expect(early.stderr).toContain('You asked for this rollback, so someone else must approve it.');
      expect(early.stderr).toContain(
        `You may approve it yourself from ${from} UTC if no approver has acted (break-glass).`,
      );

      const waited = await ask(11);
      const [bare, wrong] = await Promise.all([
        runCli(cliEntry, ['approve', waited.id, '--approved-by', 'UREQ', '--yes'], env),
        runCli(cliEntry, ['approve', waited.id, '--approved-by', 'UREQ', '--break-glass', 'api', '--yes'], env),
      ]);
      expect(bare.code).toBe(1);
      expect(bare.stderr).toContain('Confirm with --break-glass cdn');
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`"api" is not the target's name: type cdn`);
      expect(fastly.activations).toEqual([]);

      const right = await runCli(
        cliEntry,
        ['approve', waited.id, '--approved-by', 'UREQ', '--break-glass', 'cdn', '--yes'],
        env,
      );
      expect(right.stderr).toBe('');
      expect(right.code).toBe(0);
      expect(right.stdout).toContain(`@UREQ ${WORDS}; approvers @UAPP had not acted.`);
      expect(fastly.activeVersion(CDN_SERVICE)).toBe(41);
      const notice = slack.messages('CINC').find((m) => !m.threadTs);
      expect(textOf(notice ?? {})).toContain(`*${WORDS}* · approvers <@UAPP> had not acted`);

      const record = await runCli(cliEntry, ['record', waited.id], env);
      expect(record.stdout).toContain(`— ${WORDS}; approvers @UAPP had not acted`);
    } finally {
      await Promise.all([slack.close(), fastly.close()]);
      await deleteKeys(redis, prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
