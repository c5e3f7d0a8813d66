import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisSettingsFromEnv } from '../../src/config/load-config.js';
import type { RedisSettings } from '../../src/config/redis-settings.js';
import { createLogger } from '../../src/log.js';
import { copiedToReplica, probeRedis, redisOptions } from '../../src/store/redis-connection.js';
import { type BotProcess, BotWorld, FINAL, paths, type RequestRef, sleep, waitUntil } from '../support/processes.js';
import { SentinelSet } from '../support/redis-sentinel.js';
import { textOf } from '../support/slack-simulator.js';

/**
 * The bot's Redis is a master, a replica and three Sentinels (test/support/redis-sentinel.ts), and the bot is
 * told only where the Sentinels are (REDIS_SENTINELS, REDIS_SENTINEL_MASTER). The master fails over while a
 * request waits for approval, while a job waits in the queue and while one runs: once ordered by hand
 * (`SENTINEL FAILOVER`), once by a crash (SIGKILL). Then a write the master acknowledged but had not copied is
 * lost with it, on purpose.
 */
const REDIS_DOWN =
  'Redis is not answering, so rapid-rollback cannot read or record rollback requests right now. Nothing was started.';
const LOST = 'Redis lost this approval';
const NOT_ANSWERING = 'so I cannot tell whether a worker has started this rollback';
const INCIDENTS = 'CINC';

const figures: string[] = [];
afterAll(() => console.log(`Redis Sentinel failovers:\n${figures.map((f) => `  ${f}`).join('\n')}`));

/** Sends `/rollback <target>` until the app takes it again; refusals meanwhile must be the words for an outage. */
async function acceptedAgain(world: BotWorld, target: string): Promise<RequestRef> {
  for (;;) {
    const answer = await world.attempt(target);
    if (!('refused' in answer)) return answer;
    expect(answer.refused).toContain(REDIS_DOWN);
    await sleep(50); // between attempts, as a person would type it again; the loop ends on the app's answer
  }
}

function offset(info: string | undefined, field: string): number {
  return Number(new RegExp(`${field}:(\\d+)`).exec(info ?? '')?.[1] ?? Number.NaN);
}

/** Until the replica has everything the master wrote (the failovers here are not about lost writes). */
async function caughtUp(set: SentinelSet, master: number): Promise<void> {
  await waitUntil('the replica to catch up', async () => {
    const [m, r] = await Promise.all([
      set.command<string>(master, 'INFO', 'replication'),
      set.command<string>(set.replicaOf(master), 'INFO', 'replication'),
    ]);
    return offset(m, 'master_repl_offset') > 0 && offset(m, 'master_repl_offset') === offset(r, 'slave_repl_offset');
  });
}

async function newMaster(set: SentinelSet, old: number, timeoutMs = 30_000): Promise<number> {
  return waitUntil(
    'the Sentinels to agree on a new master',
    async () => {
      const master = await set.agreedMaster();
      return master !== undefined && master !== old ? master : undefined;
    },
    timeoutMs,
  );
}

/** Every "Rolling back" notice of a request (an approval lost and given again posts a second one), oldest first. */
function threads(world: BotWorld, request: RequestRef): string[][] {
  return world.slack
    .messages(INCIDENTS)
    .filter((m) => !m.threadTs && textOf(m).includes(`· ${request.tag}`))
    .map((notice) => world.slack.thread(INCIDENTS, notice.ts).map(textOf));
}

/** Waits for the request's one outcome line and checks it is the only one, in its only thread. */
async function endsOnceBackOn(world: BotWorld, request: RequestRef): Promise<void> {
  await world.finished(request, 30_000);
  expect(await world.jobEnded(request, 30_000)).toBe('completed');
  const all = threads(world, request);
  expect(all).toHaveLength(1);
  expect(all[0]?.filter((t) => FINAL.test(t))).toEqual([
    expect.stringContaining(`*${request.target} is back on v41*, verified.`),
  ]);
  expect(world.activations(request.target)).toBe(1);
}

describe('Redis Sentinel: the master fails over under the bot', () => {
  let set: SentinelSet;
  let world: BotWorld;
  let worker: BotProcess | undefined;
  let settings: RedisSettings;
  beforeAll(async () => {
    set = await SentinelSet.start();
    const parsed = redisSettingsFromEnv(set.env());
    if (!parsed) throw new Error('the Sentinel settings do not parse');
    settings = parsed;
    // The test's own connection follows the failovers as the bot's do.
    const redisClient = () => new Redis({ ...redisOptions(settings), maxRetriesPerRequest: null });
    world = await BotWorld.start({ targets: 12, redisEnv: set.env(), redisClient });
    await world.startApp();
  });
  afterAll(async () => {
    await world?.close();
    await set?.close();
  });

  it('doctor says where the master is, how many replicas it has and whether the Sentinels agree', async () => {
    const master = await set.settled();
    const probe = await probeRedis(settings, createLogger({ level: 'silent' }));
    const sentinels = set.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(', ');
    expect(probe.detail).toMatch(
      new RegExp(
        `^Sentinel rrmaster \\(${sentinels}\\): master 127.0.0.1:${master} answers \\(\\d+ ms\\), 1 replica, 3 of 3 Sentinels agree$`,
      ),
    );
    expect(probe.concerns).toEqual([]);
  });

  it('WAIT: a write is copied once the replica has it, and not copied (after 0.5 s) while the replica does not read', async () => {
    const master = await set.settled();
    const redis = new Redis({ ...redisOptions(settings), lazyConnect: true });
    try {
      await redis.set(`${world.prefix}:wait-probe`, '1');
      expect(await copiedToReplica(redis, 500)).toBe('copied');
      set.pause(set.replicaOf(master));
      try {
        await redis.set(`${world.prefix}:wait-probe`, '2');
        const started = Date.now();
        expect(await copiedToReplica(redis, 500)).toBe('not-copied');
        expect(Date.now() - started).toBeGreaterThanOrEqual(450);
      } finally {
        set.resume(set.replicaOf(master));
      }
    } finally {
      redis.disconnect();
    }
  });

  for (const [round, how] of (['SENTINEL FAILOVER', 'SIGKILL of the master'] as const).entries()) {
    it(`${how} with a request pending approval, a job queued and one running: each runs once, each thread ends once`, async () => {
      const [running, queued, pending, after] = [1, 2, 3, 4].map(
        (n) => `cdn-${String(round * 4 + n).padStart(2, '0')}`,
      ) as [string, string, string, string];
      await worker?.kill('SIGTERM');
      // One rollback at a time: the second approved job waits in the queue while the first runs.
      worker = await world.startWorker(`worker-${round}`, { WORKER_CONCURRENCY: '1' });

      const runningRequest = await world.request(running);
      const held = world.gate.hold({ method: 'PUT', path: paths.activate(running), phase: 'request' });
      await world.approve(runningRequest);
      await held.reached;
      const queuedRequest = await world.request(queued);
      await world.approve(queuedRequest);
      await waitUntil('the queued notice', () => world.notice(queuedRequest));
      expect(await world.jobState(queuedRequest)).toBe('waiting');
      const pendingRequest = await world.request(pending);

      const master = await set.settled();
      await caughtUp(set, master);
      const failedAt = Date.now();
      if (how === 'SENTINEL FAILOVER') await set.failover();
      else await set.kill(master);
      await newMaster(set, master);
      const electedMs = Date.now() - failedAt;
      held.release();
      // The app: /rollback taken again. The worker: the running rollback's job recorded as ended (it writes to
      // the new master; the figure includes the activation, the verification, and this test's own reconnect).
      const [[again, servingMs], workerMs] = await Promise.all([
        acceptedAgain(world, after).then((request) => [request, Date.now() - failedAt] as const),
        world.jobEnded(runningRequest, 30_000).then(() => Date.now() - failedAt),
      ]);

      await world.approve(pendingRequest);
      await world.approve(again);
      for (const request of [runningRequest, queuedRequest, pendingRequest, again])
        await endsOnceBackOn(world, request);
      expect(worker.logs.some((l) => /did not expect|stalled more than/.test(JSON.stringify(l)))).toBe(false);

      if (how !== 'SENTINEL FAILOVER') await set.restart(master);
      await set.settled();
      figures.push(
        `${how}: the Sentinels named the new master ${electedMs} ms after the fault; the app took /rollback again ${servingMs} ms after it; the running rollback's job ended ${workerMs} ms after it`,
      );
    });
  }

  it('an approval the master acknowledged but had not copied is lost with it: the thread says so, the buttons come back, and the approval given again runs once', async () => {
    await worker?.kill('SIGTERM');
    worker = undefined;
    const target = 'cdn-09';
    const request = await world.request(target);
    const master = await set.settled();
    const replica = set.replicaOf(master);
    await caughtUp(set, master);
    const key = `${world.prefix}:request:${request.id}`;
    expect(await set.command(replica, 'HGET', key, 'state')).toBe('pending');

    // The replica stops reading, and its link is cut: what the master acknowledges now is on the master alone.
    set.pause(replica);
    await set.command(master, 'CLIENT', 'KILL', 'TYPE', 'replica');
    const approvedAt = await world.approve(request);
    await waitUntil('the notice', () => world.notice(request));
    expect(await set.command(master, 'HGET', key, 'state')).toBe('approved');

    await set.kill(master);
    // Nothing to promote while the replica is stopped: the app's check 10 s after the approval finds no Redis, as
    // it would in a production failover (the Sentinels wait 30 s by default before they agree the master is down).
    await waitUntil(
      'the thread to say Redis is not answering',
      () => world.thread(request).some((t) => t.includes(NOT_ANSWERING)),
      20_000,
    );
    set.resume(replica);
    const resumedAt = Date.now();
    // A Sentinel that found no replica to promote waits twice failover-timeout before it tries again.
    expect(await newMaster(set, master, 45_000)).toBe(replica);
    expect(await set.command(replica, 'HGET', key, 'state')).toBe('pending');

    // The app checks again every 10 s while Redis does not answer, and then finds the request pending again.
    const said = await waitUntil(
      'the thread to say the approval was lost',
      () => world.thread(request).find((t) => t.includes(LOST)),
      40_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; the thread: ${JSON.stringify(world.thread(request))}`);
    });
    const saidMs = Date.now() - approvedAt;
    const afterResumeMs = Date.now() - resumedAt;
    expect(said).toContain('approve the request again (its buttons are back)');
    expect(world.activations(target)).toBe(0);
    await waitUntil('the Approve button back on the request', () => {
      const message = world.slack.messages('CCMD').find((m) => !m.threadTs && textOf(m).includes(request.tag));
      return JSON.stringify(message?.blocks).includes('rollback_approve');
    });

    worker = await world.startWorker('worker-after-loss');
    await world.approve(request);
    await waitUntil('the second notice', () => threads(world, request).length === 2);
    await waitUntil('the outcome', () => threads(world, request)[1]?.some((t) => FINAL.test(t)), 30_000);
    const [first, second] = threads(world, request);
    expect(first?.filter((t) => t.includes(LOST))).toHaveLength(1);
    expect(first?.filter((t) => t.includes(NOT_ANSWERING))).toHaveLength(1);
    expect(first?.some((t) => FINAL.test(t))).toBe(false);
    expect(second?.filter((t) => FINAL.test(t))).toEqual([
      expect.stringContaining(`*${target} is back on v41*, verified.`),
    ]);
    expect(world.activations(target)).toBe(1);

    await set.restart(master);
    await set.settled();
    figures.push(
      `an approval lost in a failover was said in its thread ${saidMs} ms after the click, ${afterResumeMs} ms after the replica was resumed`,
    );
  });
});
