import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BotProcess,
  BotWorld,
  type Held,
  paths,
  type RequestRef,
  serviceId,
  summary,
  waitUntil,
} from '../support/processes.js';

/**
 * A worker process SIGKILLed in the middle of rollbacks, at three points, twenty times each:
 *   before  — the job is running, its first read of the live version is held: Fastly has been told nothing;
 *   during  — the activation is in flight: held before Fastly got it (half the rounds) or after Fastly did it
 *             but before the answer came back (the other half);
 *   after   — the activation is done and answered; the verifying read (the first read after it) is held.
 * In every round one worker holds three jobs, one at each point, and is killed; a worker started just before
 * the kill (the next round's victim) takes them over. Every fifth "before" job also finds that someone
 * activated v43 while its worker was dead: the plan is stale, and nothing may be activated.
 *
 * What a person would see is asserted: Fastly's activation count per service, the incident thread's words.
 */
const ROUNDS = 20;
const LOCK_MS = 1_000;

let world: BotWorld;
beforeAll(async () => {
  world = await BotWorld.start({ targets: ROUNDS * 3 + 2, workerLockMs: LOCK_MS });
  await world.startApp();
});
afterAll(async () => world?.close());

const PICKED_UP = 'Picked up again after the previous worker stopped; re-reading the live state before anything else.';

interface Case {
  point: 'before' | 'during (Fastly never got it)' | 'during (Fastly did it, answer lost)' | 'after';
  request: RequestRef;
  held: Held;
  stale?: boolean;
}

const pickup: number[] = [];
const killToDone: number[] = [];

describe('a worker killed mid-rollback', () => {
  it(`is taken over by another worker; Fastly sees exactly one activation (${ROUNDS} kills at each of three points)`, async () => {
    let victim: BotProcess = await world.startWorker('worker-0');
    for (let round = 0; round < ROUNDS; round++) {
      const [a, b, c] = world.targets.slice(round * 3, round * 3 + 3) as [string, string, string];
      const requests = await Promise.all([world.request(a), world.request(b), world.request(c)]);
      const landed = round % 2 === 1;
      const cases: Case[] = [
        {
          point: 'before',
          request: requests[0]!,
          held: world.gate.hold({ method: 'GET', path: paths.read(a), phase: 'request' }),
          stale: round % 5 === 4,
        },
        {
          point: landed ? 'during (Fastly did it, answer lost)' : 'during (Fastly never got it)',
          request: requests[1]!,
          held: world.gate.hold({ method: 'PUT', path: paths.activate(b), phase: landed ? 'response' : 'request' }),
        },
        {
          point: 'after',
          request: requests[2]!,
          held: world.gate.hold({
            method: 'GET',
            path: paths.read(c),
            after: { method: 'PUT', path: paths.activate(c) },
            phase: 'request',
          }),
        },
      ];
      await Promise.all(cases.map((k) => world.approve(k.request)));
      await Promise.all(cases.map((k) => k.held.reached));
      expect(world.activations(b)).toBe(landed ? 1 : 0);
      expect(world.activations(c)).toBe(1);

      // The next worker is up (and idle: the victim holds every job) before the victim dies.
      const rescuer = await world.startWorker(`worker-${round + 1}`);
      await victim.kill('SIGKILL');
      const killedAt = Date.now();
      for (const k of cases.filter((k) => k.stale)) {
        world.fastly.addVersion(serviceId(k.request.target), {
          number: 43,
          locked: true,
          comment: 'deployed while the worker was dead',
        });
        world.fastly.activateOutOfBand(serviceId(k.request.target), 43);
      }

      for (const k of cases) {
        const thread = await world.finished(k.request);
        const where = `round ${round}, ${k.point}, ${k.request.target}:\n${thread.join('\n')}`;
        expect(
          thread.filter((t) => t.includes(PICKED_UP)),
          where,
        ).toHaveLength(1);
        const finals = thread.filter((t) => /\*(cdn-\d+ is back on|Rollback of cdn-\d+ (failed|stopped))/.test(t));
        expect(finals, where).toHaveLength(1);
        if (k.stale) {
          expect(world.activations(k.request.target), where).toBe(0);
          expect(world.activeVersion(k.request.target)).toBe(43);
          expect(thread.join('\n'), where).toContain(
            'Stopped: the plan was made when v42 was live, but Fastly service',
          );
          expect(thread.join('\n'), where).toContain('now has v43. Nothing was changed.');
          expect(finals[0], where).toContain(
            `*Rollback of ${k.request.target} stopped*: the plan no longer matches what is live. Nothing was changed.`,
          );
        } else {
          expect(world.activations(k.request.target), where).toBe(1);
          expect(world.activeVersion(k.request.target)).toBe(41);
          expect(finals[0], where).toContain(`*${k.request.target} is back on v41*, verified.`);
          const afterPickup = thread.slice(thread.findIndex((t) => t.includes(PICKED_UP)));
          if (k.point === 'before' || k.point === 'during (Fastly never got it)') {
            // The new worker found v42 still live: it activated, once.
            expect(afterPickup.join('\n'), where).toContain('✅ Checked: v42 is live on Fastly service');
            expect(afterPickup.join('\n'), where).toContain('✅ Activated v41');
          } else {
            // Fastly had done it: the new worker saw v41 live and only verified.
            expect(afterPickup.join('\n'), where).toContain('v41 is already live on Fastly service');
            expect(afterPickup.join('\n'), where).toContain('nothing to activate, verifying.');
            expect(afterPickup.join('\n'), where).not.toContain('✅ Activated v41');
          }
        }
        const pickedUpCall = world.slack.calls.find(
          (c) =>
            c.method === 'chat.postMessage' &&
            String(c.args.text).includes(PICKED_UP) &&
            c.args.thread_ts === world.notice(k.request)?.ts,
        );
        const finalCall = world.slack.calls.find(
          (c) =>
            c.method === 'chat.postMessage' &&
            c.args.thread_ts === world.notice(k.request)?.ts &&
            /\*(cdn-\d+ is back on|Rollback of cdn-\d+ stopped)/.test(String(c.args.text)),
        );
        if (pickedUpCall) pickup.push(pickedUpCall.at - killedAt);
        if (finalCall) killToDone.push(finalCall.at - killedAt);
      }
      victim = rescuer;
    }
    await victim.kill('SIGTERM');
    // Nothing else was activated anywhere: one per non-stale job, none for the stale ones.
    const stale = Math.ceil(ROUNDS / 5);
    expect(world.fastly.activations).toHaveLength(ROUNDS * 3 - stale);
    console.log(
      `worker SIGKILLed ${ROUNDS} times with 3 jobs each (RR_WORKER_LOCK_MS=${LOCK_MS}):\n` +
        `  kill → "Picked up again" in the thread: ${JSON.stringify(summary(pickup))} ms\n` +
        `  kill → final message in the thread:    ${JSON.stringify(summary(killToDone))} ms`,
    );
  });
});

describe('a worker killed mid-rollback, with the default lock (RR_WORKER_LOCK_MS unset)', () => {
  it("is taken over within 5 to 15 s (BullMQ's own defaults took 60 s)", async () => {
    const unset = { RR_WORKER_LOCK_MS: '' };
    const victim = await world.startWorker('default-victim', unset);
    const request = await world.request(world.targets.at(-1)!);
    const held = world.gate.hold({ method: 'PUT', path: paths.activate(request.target), phase: 'request' });
    await world.approve(request);
    await held.reached;
    const rescuer = await world.startWorker('default-rescuer', unset);
    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    await waitUntil('the job picked up again', () => world.thread(request).some((t) => t.includes(PICKED_UP)), 20_000);
    const pickedUpMs = Date.now() - killedAt;
    const thread = await world.finished(request);
    expect(thread.join('\n')).toContain(`*${request.target} is back on v41*, verified.`);
    expect(world.activations(request.target)).toBe(1);
    // The lock lapses 5 to 10 s after the death (it is renewed every 5 s); a check runs every 5 s.
    expect(pickedUpMs).toBeGreaterThanOrEqual(4_500);
    expect(pickedUpMs).toBeLessThan(17_000);
    console.log(`default lock (10 s): kill → "Picked up again" in ${pickedUpMs} ms`);
    await rescuer.kill('SIGTERM');
  });
});

describe('a rollback whose workers are killed twice', () => {
  it('is not run a third time: the thread ends saying so, and the target is free for a new request', async () => {
    const target = world.targets.at(-2)!;
    const first = await world.startWorker('twice-1');
    const request = await world.request(target);
    const atFirst = world.gate.hold({ method: 'PUT', path: paths.activate(target), phase: 'request' });
    const atSecond = world.gate.hold({ method: 'PUT', path: paths.activate(target), phase: 'request' });
    await world.approve(request);
    await atFirst.reached;
    const second = await world.startWorker('twice-2');
    await first.kill('SIGKILL');
    await atSecond.reached;
    const third = await world.startWorker('twice-3');
    await second.kill('SIGKILL');

    const thread = await world.finished(request);
    const all = thread.join('\n');
    expect(thread.filter((t) => t.includes(PICKED_UP))).toHaveLength(1);
    expect(all).toContain(`*Rollback of ${target} failed*`);
    expect(all).toContain(
      'Two workers stopped in the middle of this rollback, so it is not tried a third time; whether v41 was activated is not known.',
    );
    expect(all).toContain(`Check ${target} by hand before anything else`);
    expect(world.activations(target)).toBe(0);
    await waitUntil('the notice to say it failed', () =>
      world.slack
        .messages('CINC')
        .find(
          (m) =>
            m.ts === world.notice(request)?.ts &&
            (m.text ?? '').length > 0 &&
            JSON.stringify(m.blocks).includes('failed — see thread'),
        ),
    );
    // The request is closed and the target's lock released: a new rollback can be asked for at once.
    const again = await world.attempt(target);
    expect('refused' in again ? again.refused : 'accepted').toBe('accepted');
    await third.kill('SIGTERM');
  });
});
