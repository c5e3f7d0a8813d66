/**
 * A follow-up (a migration revert) runs at most once per approval, even when its worker freezes or dies
 * while the command runs and BullMQ hands the job to another worker: the second run does not run the
 * command again, and says the outcome is unknown and what to check. On the real Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FollowUpResult, RollbackDriver } from '../../src/core/ports/driver.js';
import type { RollbackJobData } from '../../src/core/ports/queue.js';
import type { RollbackRequest } from '../../src/core/request.js';
import type { FinishedRollback, ProgressReporter } from '../../src/core/run-rollback.js';
import { runRollback } from '../../src/core/run-rollback.js';
import { plainText } from '../../src/core/text.js';
import type { Plan, StepReport } from '../../src/core/types.js';
import { silentLogger } from '../../src/log.js';
import { RedisRequestStore } from '../../src/store/redis-request-store.js';
import { REDIS_URL } from '../support/harness.js';
import { deleteKeys } from '../support/redis-keys.js';

const redis = new Redis(REDIS_URL);
const prefix = `rrfollow-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
afterEach(() => deleteKeys(redis, prefix));
afterAll(() => redis.disconnect());

const plan: Plan = {
  target: 'api',
  kind: 'helm',
  resource: 'Helm release app in prod',
  identity: 'helm:https://k8s.example/prod/app',
  from: { id: '2', label: 'revision 2' },
  to: { id: '1', label: 'revision 1' },
  selection: 'history',
  notes: [],
  steps: ['helm rollback app 1'],
  budgetMs: 300_000,
  actionDone: 'helm rollback app 1 finished',
};

/** A Helm-like driver whose migration command never returns on its first run (the worker froze in it). */
function driver() {
  const runs: string[] = [];
  let release: (result: FollowUpResult) => void = () => undefined;
  const d: RollbackDriver = {
    kind: 'helm',
    identity: plan.identity!,
    live: async () => ({ resource: plan.resource, current: { id: '3', label: 'revision 3', restores: '1' } }),
    plan: async () => plan,
    execute: async () => undefined,
    verify: async () => [],
    followUps: () => [
      { id: 'migration', label: 'Revert migration', description: './migrate down 1', needsApproval: true },
    ],
    runFollowUp: (_ctx, _plan, id) => {
      runs.push(id);
      return new Promise((resolve) => (release = resolve));
    },
  };
  return { driver: d, runs, finishFirst: () => release({ ok: true, output: '', detail: 'exit code 0' }) };
}

function reporter(steps: StepReport[]): ProgressReporter & { finished: FinishedRollback[] } {
  const finished: FinishedRollback[] = [];
  return { finished, report: (s) => steps.push(s), finish: (r) => finished.push(r), flush: async () => undefined };
}

async function approvedFollowUp(store: RedisRequestStore): Promise<RollbackJobData> {
  const now = Date.now();
  const request: RollbackRequest = {
    id: `rb-${now.toString(36)}-fol001`,
    followUp: {
      id: 'migration',
      label: 'Revert migration',
      description: './migrate down 1',
      parentId: 'rb-parent-000001',
    },
    target: 'api',
    plan,
    reason: 'Revert migration after rollback rb-parent-000001',
    requester: 'UREQ',
    origin: { channel: 'CINC' },
    createdAt: now,
    expiresAt: now + 60_000,
    state: 'pending',
  };
  await store.create(request);
  const approved = await store.approve(request.id, 'UAPP', now);
  expect(approved.ok).toBe(true);
  return {
    requestId: request.id,
    plan,
    requester: 'UREQ',
    approver: 'UAPP',
    approvedAt: now,
    reason: request.reason,
    followUp: request.followUp,
  };
}

describe('a follow-up resumed after its worker stopped', () => {
  it('does not run the command a second time; the thread says the outcome is unknown and what to check', async () => {
    const store = new RedisRequestStore(redis, { prefix });
    const job = await approvedFollowUp(store);
    const { driver: d, runs, finishFirst } = driver();
    const deps = (r: ProgressReporter) => ({
      store,
      driver: d,
      reporter: r,
      log: silentLogger(),
      signal: AbortSignal.timeout(30_000),
    });

    // The first worker runs the command and freezes in it.
    const firstSteps: StepReport[] = [];
    const first = runRollback(job, deps(reporter(firstSteps)));
    await expect.poll(() => runs.length).toBe(1);

    // BullMQ hands the job to a second worker.
    const secondSteps: StepReport[] = [];
    const second = reporter(secondSteps);
    const outcome = await runRollback(job, deps(second));
    expect(runs).toEqual(['migration']);
    expect(outcome?.error?.code).toBe('OUTCOME_UNKNOWN');
    expect(secondSteps.map((s) => plainText(s.text)).join('\n')).toContain(
      'Revert migration not run again: the worker running it stopped, and `./migrate down 1` may already have run',
    );
    expect(second.finished[0]?.outcome.status).toBe('failed');
    expect((await store.get(job.requestId))?.state).toBe('failed');

    finishFirst();
    await first;
    expect(runs).toEqual(['migration']);
  });
});
