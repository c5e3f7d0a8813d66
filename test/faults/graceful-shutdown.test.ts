import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotWorld, FINAL, paths, waitUntil } from '../support/processes.js';

/**
 * SIGTERM to a worker process, as `docker stop` or Kubernetes sends it: it takes no new job, finishes the one
 * it is running, reports it once, and exits 0. The running job is held at its activation by the HoldingProxy
 * so the signal lands mid-rollback.
 */
let world: BotWorld;
const figures: string[] = [];
beforeAll(async () => {
  world = await BotWorld.start({ targets: 3 });
  await world.startApp();
});
afterAll(async () => {
  console.log(`Graceful shutdown:\n${figures.map((f) => `  ${f}`).join('\n')}`);
  await world?.close();
});

describe('a worker sent SIGTERM', () => {
  it('mid-rollback: finishes it, reports it once, takes no new job, exits 0; the next worker takes the queued one', async () => {
    const draining = await world.startWorker('draining');
    const running = await world.request('cdn-01');
    const held = world.gate.hold({ method: 'PUT', path: paths.activate('cdn-01'), phase: 'request' });
    await world.approve(running);
    await held.reached;

    const signalled = Date.now();
    process.kill(draining.pid, 'SIGTERM');
    await draining.waitForLog((l) => l.msg === 'stopping: no new jobs; the running ones finish first');

    // Approved while the worker drains: it must stay queued for another worker.
    const queued = await world.request('cdn-02');
    await world.approve(queued);
    await waitUntil('the notice', () => world.notice(queued));
    const state = await waitUntil('the job to be queued', async () => {
      const now = await world.jobState(queued);
      return now !== 'unknown' && now;
    });
    expect(state).toBe('waiting');
    expect(draining.alive).toBe(true);

    held.release();
    const exit = await draining.exited;
    const exitMs = Date.now() - signalled;
    expect(exit).toEqual({ code: 0, signal: null });
    // The draining worker is gone, and no other was up: had it taken the queued job, it would have run it.
    expect(await world.jobState(queued)).toBe('waiting');
    expect(world.thread(queued)).toEqual([]);
    const thread = await world.finished(running);
    expect(thread.filter((t) => FINAL.test(t))).toEqual([
      expect.stringContaining('*cdn-01 is back on v41*, verified.'),
    ]);
    expect(thread.filter((t) => t.startsWith('📋 *After the rollback*'))).toHaveLength(1);
    expect(thread.join('\n')).not.toContain('Picked up again');
    expect(world.activations('cdn-01')).toBe(1);
    expect(world.activations('cdn-02')).toBe(0);

    const next = await world.startWorker('next');
    const queuedThread = await world.finished(queued);
    expect(queuedThread[0]).toMatch(/^ℹ️ Worker started \d+ ms after approval\./m);
    expect(queuedThread.join('\n')).toContain('*cdn-02 is back on v41*, verified.');
    expect(world.activations('cdn-02')).toBe(1);
    figures.push(
      `SIGTERM mid-rollback (activation held until a second rollback was queued): exited 0, ${exitMs} ms after the signal`,
    );

    const idleSignalled = Date.now();
    expect(await next.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    figures.push(`SIGTERM to an idle worker: exited 0 after ${Date.now() - idleSignalled} ms`);
  });
});
