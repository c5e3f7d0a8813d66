import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BotProcess,
  BotWorld,
  FINAL,
  PEOPLE,
  PrivateRedis,
  paths,
  type RequestRef,
  sleep,
  waitUntil,
} from '../support/processes.js';
import { textOf } from '../support/slack-simulator.js';

/**
 * The bot's Redis stopped and started again mid-flight: a redis-server of the test's own, with the app and a
 * worker as separate processes on it. Once with persistence (an append-only file fsynced on every write, as a
 * production Redis that keeps its data would run), once without (a restart starts empty).
 *
 * Workers hold a job's lock for 1 s here (RR_WORKER_LOCK_MS), so every outage in this file outlasts the lock:
 * the hard case, where BullMQ hands the job back as stalled while its run goes on.
 */
const LOCK_MS = 1_000;
const REDIS_DOWN =
  'Redis is not answering, so rapid-rollback cannot read or record rollback requests right now. Nothing was started.';

const figures: string[] = [];
afterAll(() => console.log(`Redis restarts:\n${figures.map((f) => `  ${f}`).join('\n')}`));

/** Sends `/rollback <target>` until the app takes it again: how long after Redis came back it did. */
async function acceptedAgain(
  world: BotWorld,
  target: string,
  since: number,
): Promise<{ request: RequestRef; ms: number }> {
  for (;;) {
    const answer = await world.attempt(target);
    if (!('refused' in answer)) return { request: answer, ms: Date.now() - since };
    expect(answer.refused).toContain(REDIS_DOWN);
    await sleep(50); // between attempts, as a person would type it again; the loop ends on the app's answer
  }
}

function requestState(redis: PrivateRedis, world: BotWorld, id: string): Promise<string | null> {
  const client = new Redis(redis.url);
  return client.hget(`${world.prefix}:request:${id}`, 'state').finally(() => client.disconnect());
}

describe('Redis with persistence (appendonly yes, appendfsync always), restarted', () => {
  let redis: PrivateRedis;
  let world: BotWorld;
  let worker: Promise<BotProcess> | undefined;
  /** One worker, started by the first test that needs it and shared by the rest. */
  const aWorker = () => (worker ??= world.startWorker());
  beforeAll(async () => {
    redis = await PrivateRedis.start('aof');
    world = await BotWorld.start({ targets: 6, redisUrl: redis.url, workerLockMs: LOCK_MS });
    await world.startApp();
  });
  afterAll(async () => {
    await world?.close();
    await redis?.close();
  });

  it('keeps a queued rollback, which runs once after; meanwhile /rollback and Approve are answered at once, in words', async () => {
    const queued = await world.request('cdn-01');
    const open = await world.request('cdn-02');
    await world.approve(queued);
    // No worker is up: the job waits in Redis, the notice is out.
    await waitUntil('the notice', () => world.notice(queued));

    await redis.stop('SIGTERM');
    const refused = await world.attempt('cdn-03');
    expect('refused' in refused && refused.refused).toContain(REDIS_DOWN);
    const commandMs = 'refused' in refused ? refused.ms : NaN;
    expect(commandMs).toBeLessThan(1_000);

    const clicked = Date.now();
    await world.approve(open);
    const clickAnswer = await waitUntil('the approver’s answer', () =>
      world.privateTo(PEOPLE.approver).find((t) => t.includes(REDIS_DOWN)),
    );
    const clickMs = Date.now() - clicked;
    expect(clickAnswer).toContain('Try again in a minute.');
    expect(clickMs).toBeLessThan(1_000);

    await redis.start();
    const back = Date.now();
    const again = await acceptedAgain(world, 'cdn-03', back);

    await aWorker();
    const thread = await world.finished(queued);
    expect(thread.filter((t) => FINAL.test(t))).toEqual([
      expect.stringContaining('*cdn-01 is back on v41*, verified.'),
    ]);
    expect(thread.join('\n')).not.toContain('Picked up again');
    expect(world.activations('cdn-01')).toBe(1);

    // The click made while Redis was down approved nothing; the request is still open, and approving it now works.
    expect(world.notice(open)).toBeUndefined();
    await world.approve(open);
    expect((await world.finished(open)).join('\n')).toContain('*cdn-02 is back on v41*, verified.');
    await world.approve(again.request);
    await world.finished(again.request);
    expect(world.activations('cdn-02')).toBe(1);
    expect(world.activations('cdn-03')).toBe(1);
    figures.push(
      `aof, SIGTERM: /rollback while down answered in ${Math.round(commandMs)} ms, Approve in ${clickMs} ms; the app took /rollback again ${again.ms} ms after Redis was back`,
    );
  });

  it('a rollback running when Redis crashes (SIGKILL) finishes, is recorded, and is reported once', async () => {
    await aWorker();
    const running = await world.request('cdn-04');
    const held = world.gate.hold({ method: 'PUT', path: paths.activate('cdn-04'), phase: 'request' });
    await world.approve(running);
    await held.reached;

    await redis.stop('SIGKILL');
    held.release();
    // Fastly needs no Redis: the activation and its verification go on, and the thread shows them.
    await waitUntil('the verification in the thread', () =>
      world.thread(running).some((t) => t.includes('Verify active version: Fastly reports v41 active')),
    );
    await sleep(2 * LOCK_MS); // longer than the lock: BullMQ will see the job as stalled
    expect(world.thread(running).some((t) => FINAL.test(t))).toBe(false);

    await redis.start();
    const back = Date.now();
    const thread = await world.finished(running);
    const reportedMs = Date.now() - back;
    // A job ends only after every run of it (a hand-back included) has flushed its thread: a second report
    // would be there by now.
    expect(await world.jobEnded(running)).toBe('completed');
    const after = world.thread(running);
    expect(after.filter((t) => FINAL.test(t))).toEqual([expect.stringContaining('*cdn-04 is back on v41*, verified.')]);
    expect(after.join('\n')).not.toMatch(/Picked up again|did not expect/);
    expect(after.filter((t) => t.startsWith('📋 *After the rollback*'))).toHaveLength(1);
    expect(after.slice(0, thread.length)).toEqual(thread);
    expect(world.activations('cdn-04')).toBe(1);
    expect(await requestState(redis, world, running.id)).toBe('succeeded');
    figures.push(`aof, SIGKILL: a rollback done during the outage was reported ${reportedMs} ms after Redis was back`);
  });

  it('a rollback still running when Redis is back (its lock lapsed meanwhile) is not run a second time beside itself', async () => {
    await aWorker();
    const running = await world.request('cdn-05');
    // Activated; the verifying read is held through the outage and after it.
    const held = world.gate.hold({
      method: 'GET',
      path: paths.read('cdn-05'),
      after: { method: 'PUT', path: paths.activate('cdn-05') },
      phase: 'request',
    });
    await world.approve(running);
    await held.reached;
    await redis.stop('SIGTERM');
    await sleep(2 * LOCK_MS); // Redis stays down longer than the lock: the fault this test makes
    await redis.start();
    await sleep(3 * LOCK_MS); // BullMQ hands the job back as stalled while this run still waits on Fastly
    held.release();
    await world.finished(running);
    expect(await world.jobEnded(running)).toBe('completed');
    const thread = world.thread(running);
    expect(thread.filter((t) => FINAL.test(t))).toEqual([
      expect.stringContaining('*cdn-05 is back on v41*, verified.'),
    ]);
    expect(thread.join('\n')).not.toContain('Picked up again');
    expect(world.activations('cdn-05')).toBe(1);
    expect(await requestState(redis, world, running.id)).toBe('succeeded');
  });
});

describe('Redis without persistence, restarted empty', () => {
  let redis: PrivateRedis;
  let world: BotWorld;
  beforeAll(async () => {
    redis = await PrivateRedis.start('none');
    world = await BotWorld.start({ targets: 6, redisUrl: redis.url, workerLockMs: LOCK_MS });
    await world.startApp();
  });
  afterAll(async () => {
    await world?.close();
    await redis?.close();
  });

  it('loses a queued rollback: nothing runs, and the thread says so instead of staying silent', async () => {
    const queued = await world.request('cdn-01');
    await world.approve(queued);
    await waitUntil('the notice', () => world.notice(queued));
    await redis.stop('SIGTERM');
    await redis.start();
    await world.startWorker();
    // The app checks 10 s after approval whether a worker started it.
    const said = await waitUntil(
      'the thread to say the request is gone',
      () => world.thread(queued).find((t) => t.includes('Redis no longer has this rollback request')),
      15_000,
    );
    expect(said).toContain('unless steps appear above, nothing was changed');
    expect(world.activations('cdn-01')).toBe(0);
    expect(world.thread(queued).some((t) => FINAL.test(t))).toBe(false);
  });

  it('a running rollback finishes and is reported once; its record in Redis is lost', async () => {
    const running = await world.request('cdn-02');
    const held = world.gate.hold({ method: 'PUT', path: paths.activate('cdn-02'), phase: 'request' });
    await world.approve(running);
    await held.reached;
    await redis.stop('SIGTERM');
    await redis.start();
    held.release();
    const thread = await world.finished(running);
    // Redis lost the job, so no worker can run it again; the run's last Slack call is the notice's final word.
    await waitUntil('the notice to say it is done', () => /done in/.test(textOf(world.notice(running)!)));
    expect(await world.jobState(running)).toBe('unknown');
    expect(world.thread(running).filter((t) => t.startsWith('📋 *After the rollback*'))).toHaveLength(1);
    expect(thread.filter((t) => FINAL.test(t))).toEqual([
      expect.stringContaining('*cdn-02 is back on v41*, verified.'),
    ]);
    expect(world.activations('cdn-02')).toBe(1);
    expect(await requestState(redis, world, running.id)).toBeNull();
  });
});
