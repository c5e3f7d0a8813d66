import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, BotWorld, sleep, waitUntil, webDeployment } from '../support/processes.js';

/**
 * A worker SIGKILLed while its Kubernetes rollback PATCH is in flight: held unanswered by the simulator
 * before the API server applied it (half the rounds) or after it did (the other half: the outcome the worker
 * never learnt). The worker started just before the kill takes the job over. The simulator counts how many
 * times the Deployment's pod template changed: exactly once per rollback, whatever the worker knew.
 */
const ROUNDS = 6;
const LOCK_MS = 1_000;
const DEPLOYMENT = '/apis/apps/v1/namespaces/prod/deployments/web';
const PICKED_UP = 'Picked up again after the previous worker stopped; re-reading the live state before anything else.';

let world: BotWorld;
beforeAll(async () => {
  world = await BotWorld.start({ targets: 1, kube: { readyDelayMs: 150, replicas: 2 }, workerLockMs: LOCK_MS });
  await world.startApp();
});
const killToDone: number[] = [];
afterAll(async () => {
  console.log(
    `worker SIGKILLed ${killToDone.length} times during the rollback PATCH (RR_WORKER_LOCK_MS=${LOCK_MS}): kill → final message ${killToDone.join(', ')} ms`,
  );
  await world?.close();
});

describe('a worker killed during a Kubernetes rollback', () => {
  it(`is taken over; the Deployment is rolled back exactly once (${ROUNDS} kills, PATCH held before and after it applied)`, async () => {
    const kube = world.kube!;
    let victim: BotProcess = await world.startWorker('kube-0');
    for (let round = 0; round < ROUNDS; round++) {
      const applied = round % 2 === 1;
      const where = `round ${round} (PATCH held ${applied ? 'after' : 'before'} it applied)`;
      const request = await world.request('web');
      const changesBefore = kube.deploymentTemplateChanges('prod', 'web');
      const logBefore = kube.requests.length;
      kube.injectFaults({
        method: 'PATCH',
        path: DEPLOYMENT,
        hang: true,
        phase: applied ? 'after' : 'before',
        count: 1,
      });
      await world.approve(request);
      await waitUntil(`the held PATCH, ${where}`, () =>
        kube.requests
          .slice(logBefore)
          .some((r) => r.method === 'PATCH' && r.path === DEPLOYMENT && r.fault?.startsWith('held')),
      );
      expect(kube.deploymentTemplateChanges('prod', 'web') - changesBefore, where).toBe(applied ? 1 : 0);

      const rescuer = await world.startWorker(`kube-${round + 1}`);
      await victim.kill('SIGKILL');
      const killedAt = Date.now();
      const thread = await world.finished(request, 30_000);
      killToDone.push(Date.now() - killedAt);
      const all = thread.join('\n');
      expect(kube.deploymentTemplateChanges('prod', 'web') - changesBefore, `${where}\n${all}`).toBe(1);
      expect(all, where).toContain(PICKED_UP);
      expect(all, where).toContain('*web is back on');
      expect(all, where).toMatch(/Verify running images: 2 of 2 pods \(app=web\) run registry\/web:1\.0\.0/);
      victim = rescuer;

      // Someone fixes forward before the next round: 1.1.0 goes out again, so there is something to roll back.
      kube.applyDeployment('prod', webDeployment('registry/web:1.1.0', 2));
      const running = (image: string) =>
        kube
          .pods('prod', 'app=web')
          .filter(
            (p) =>
              !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp &&
              JSON.stringify(p.spec).includes(image),
          ).length;
      await waitUntil(
        'the fix-forward rollout',
        () => running('registry/web:1.1.0') === 2 && running('registry/web:1.0.0') === 0,
        10_000,
      );
      await sleep(300);
    }
  });
});
