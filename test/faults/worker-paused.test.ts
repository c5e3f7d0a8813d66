import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotWorld, paths, waitUntil } from '../support/processes.js';

/**
 * Two live workers and one job: a worker paused (SIGSTOP: a long GC pause, a frozen VM, a laptop lid) past
 * its lock loses the job to another worker, then wakes up with the stale-plan read answered "as planned".
 * Without a fence both would activate. The Fastly simulator counts activations; the thread must say what
 * happened. Run several times: the interleaving is forced by holding requests, not left to timing.
 */
const ROUNDS = 5;
const LOCK_MS = 1_000;

let world: BotWorld;
beforeAll(async () => {
  world = await BotWorld.start({ targets: ROUNDS, workerLockMs: LOCK_MS });
  await world.startApp();
});
afterAll(async () => world?.close());

describe('a worker paused past its lock while another takes its job over', () => {
  it(`changes nothing when it wakes: Fastly sees exactly one activation (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const target = world.targets[round]!;
      const paused = await world.startWorker(`paused-${round}`);
      const request = await world.request(target);
      // The paused worker's stale-plan read, and the rescuer's activation, wait at the gate.
      const pausedRead = world.gate.hold({ method: 'GET', path: paths.read(target), phase: 'request' });
      const rescuerActivation = world.gate.hold({ method: 'PUT', path: paths.activate(target), phase: 'request' });
      await world.approve(request);
      await pausedRead.reached;
      process.kill(paused.pid, 'SIGSTOP');
      const rescuer = await world.startWorker(`rescuer-${round}`);
      await rescuerActivation.reached;

      // The paused worker's read is answered while v42 is still live: to it, the plan still holds.
      pausedRead.release();
      process.kill(paused.pid, 'SIGCONT');
      await waitUntil(
        'the woken worker to stop, or to activate',
        () =>
          world.activations(target) > 0 ||
          paused.logs.some((l) => /lost the job before changing anything/.test(String(l.msg))),
      );
      expect(world.activations(target), `round ${round}: the woken worker activated`).toBe(0);

      rescuerActivation.release();
      await world.finished(request);
      await waitUntil('the paused worker to say it stopped', () =>
        world
          .thread(request)
          .some((t) => t.includes('found this rollback taken over: it stopped without changing anything')),
      );
      const all = world.thread(request).join('\n');
      expect(world.activations(target), `round ${round}: ${all}`).toBe(1);
      expect(all).toContain(`*${target} is back on v41*, verified.`);
      await Promise.all([paused.kill('SIGTERM'), rescuer.kill('SIGTERM')]);
    }
  });
});
