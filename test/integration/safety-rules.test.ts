/**
 * The safety rules of issue 9, each through the real app on the real Redis and the simulators: a follow-up
 * runs at most once and only while its rollback's version is live; an applied rollback counts even when its
 * verification failed; a target's lock lives exactly as long as its request; a plan acts only on the resource
 * it was made for; the read that decides is the last thing before the change; a job acts only for an
 * approved request.
 */
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load-config.js';
import { JOB_NAME, QUEUE_NAME } from '../../src/queue/job-schema.js';
import { RedisRequestStore } from '../../src/store/redis-request-store.js';
import { appRelease, CDN_SERVICE, CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { type SimMessage, textOf } from '../support/slack-simulator.js';
import { waitUntil } from '../support/wait.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function requestOf(text: string, user: string = PEOPLE.requester) {
  const before = h.slack.messages(CHANNELS.command).filter((m) => !m.threadTs).length;
  expect((await h.command(text, { user })).status).toBe(200);
  await h.slack.waitFor((sim) => sim.messages(CHANNELS.command).filter((m) => !m.threadTs).length > before, 10_000);
  return h.awaitRequest();
}

const notices = () => h.slack.messages(CHANNELS.incident).filter((m) => !m.threadTs);
const threadText = (notice: SimMessage) => h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');

/** Approves and waits for the rollback's last message; returns its notice and thread. */
async function approveAndFinish(request: { id: string; channel: string; ts: string }, target: string) {
  const before = notices().length;
  await h.click('approve', request, PEOPLE.approver);
  const notice = await h.slack.waitFor(() => notices()[before], 10_000);
  await h.slack.waitFor(
    () => new RegExp(`\\*(${target} is back on|Rollback of ${target} (failed|stopped))`).test(threadText(notice)),
    30_000,
  );
  return { notice, thread: threadText(notice) };
}

const store = () => new RedisRequestStore(h.redis, { prefix: h.prefix });
const privateAnswer = (user: string, pattern: RegExp) =>
  h.slack.waitFor(() => h.privateTo(user).find((t) => pattern.test(t)), 10_000);

describe('an applied rollback counts even when its verification failed (§2)', () => {
  it('a Deployment rolled back whose rollout then missed its deadline: no plain undo, status says diverged', async () => {
    h = await startHarness({ kube: {} });
    h.kube!.failProgress('prod', 'web');
    const { thread } = await approveAndFinish(await requestOf('web'), 'web');
    expect(thread).toContain('*Rollback of web failed*');
    expect(h.kube!.deployment('prod', 'web')?.spec.template.spec.containers[0].image).toBe('registry/web:1.0.0');

    await h.command('web try again');
    const refusal = await privateAnswer(PEOPLE.requester, /cannot be undone|undo/i);
    expect(refusal).toContain('A rollback cannot be undone from the same pipeline');
    await h.command('status');
    const status = await privateAnswer(PEOPLE.requester, /diverged/);
    expect(status).toMatch(/`web`[^\n]*revision 3[^\n]*\n\s*⚠️ diverged from git since the rollback from revision 2/);
  });
});

describe('follow-ups are changes like any other (§1)', () => {
  it('one migration revert per rollback: a second click is refused with a link to the first', async () => {
    h = await startHarness({ kube: { migration: true } });
    h.kube!.onExec(() => ({ stdout: 'Rolled back migration 0042\n', exitCode: 0 }));
    const { notice } = await approveAndFinish(await requestOf('api'), 'api');
    const final = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /back on/.test(textOf(m)))!;
    await h.clickFollowUp(final, PEOPLE.requester);
    const first = await h.slack.waitFor(() =>
      h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /Revert migration requested: api/.test(textOf(m))),
    );
    const firstId = /`(rb-[a-z0-9-]+)`/.exec(textOf(first))![1]!;
    await h.clickFollowUp(final, PEOPLE.groupMember);
    const refusal = await privateAnswer(PEOPLE.groupMember, /already/);
    expect(refusal).toContain(firstId);
    expect(
      h.slack.thread(CHANNELS.incident, notice.ts).filter((m) => /Revert migration requested: api/.test(textOf(m))),
    ).toHaveLength(1);
  });

  it('refuses a migration revert once the rolled-back revision is no longer live, at the click and at the run', async () => {
    h = await startHarness({ kube: { migration: true } });
    const execs: unknown[] = [];
    h.kube!.onExec((req) => {
      execs.push(req);
      return { stdout: 'ok\n', exitCode: 0 };
    });
    const { notice } = await approveAndFinish(await requestOf('api'), 'api');
    const final = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /back on/.test(textOf(m)))!;
    // Asked while revision 1 (restored by revision 3) is live; then a new release goes out before approval.
    await h.clickFollowUp(final, PEOPLE.requester);
    const pending = await h.slack.waitFor(() =>
      h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /Revert migration requested: api/.test(textOf(m))),
    );
    const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(pending))![1]!;
    h.kube!.seedHelmRelease(appRelease(['superseded', 'superseded', 'superseded', 'deployed']));
    await h.click('approve', { id, channel: CHANNELS.incident, ts: pending.ts }, PEOPLE.approver);
    await waitUntil('the follow-up to end', async () =>
      ['failed', 'stale'].includes((await store().get(id))?.state ?? ''),
    );
    expect(
      await h.slack.waitFor(() =>
        /now on v1\.3\.0 \(revision 4\), no longer on v1\.0\.0 \(revision 1\)/.test(threadText(notice)),
      ),
    ).toBe(true);
    expect(execs).toEqual([]);

    // A click in the old thread now is refused before anything is requested.
    await h.clickFollowUp(final, PEOPLE.groupMember);
    expect(await privateAnswer(PEOPLE.groupMember, /revision 4/)).toMatch(
      /now on v1\.3\.0 \(revision 4\), no longer on v1\.0\.0/,
    );
    expect(execs).toEqual([]);
  });
});

describe('a target lock lives exactly as long as its request (§3, §6)', () => {
  it('an approved rollback that waits for a worker keeps its target locked, however long it waits', async () => {
    h = await startHarness({ mode: 'app' });
    const request = await requestOf('cdn');
    await h.click('approve', request, PEOPLE.approver);
    await waitUntil('the approval', async () => (await store().get(request.id))?.state === 'approved');
    // No expiry: the lock ends with the request, not with a clock.
    expect(await h.redis.pttl(`${h.prefix}:lock:cdn`)).toBe(-1);
  });

  it('a worker never acts for a request whose lock it does not hold: two approvals, one lock, one activation', async () => {
    h = await startHarness({
      mode: 'app',
      services: [{ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 }],
    });
    const first = await requestOf('cdn');
    await h.click('approve', first, PEOPLE.approver);
    await waitUntil('the first approval', async () => (await store().get(first.id))?.state === 'approved');
    // The lock is lost while the job waits (as an expiring lock did after an hour without workers).
    await h.redis.del(`${h.prefix}:lock:cdn`);
    const second = await requestOf('cdn to v40');
    await h.click('approve', second, PEOPLE.approver);
    await waitUntil('the second approval', async () => (await store().get(second.id))?.state === 'approved');

    await h.startWorker();
    await waitUntil(
      'both requests to end',
      async () => {
        const states = await Promise.all([first.id, second.id].map(async (id) => (await store().get(id))?.state));
        return states.every((s) => s === 'succeeded' || s === 'failed' || s === 'stale');
      },
      20_000,
    );
    expect(h.fastly.activations.map((a) => a.version)).toEqual([40]);
    expect((await store().get(first.id))?.outcome).toMatch(/lock/);
  });

  it('a job queued for a request that is not approved (its approval was undone) does nothing', async () => {
    h = await startHarness({ mode: 'app' });
    const request = await requestOf('cdn');
    const stored = (await store().get(request.id))!;
    const queue = new Queue(QUEUE_NAME, { connection: h.redis.duplicate(), prefix: `${h.prefix}-bull` });
    const job = await queue.add(
      JOB_NAME,
      {
        requestId: stored.id,
        plan: stored.plan,
        requester: stored.requester,
        approver: PEOPLE.approver,
        approvedAt: Date.now(),
        reason: '',
      },
      { jobId: stored.id },
    );
    await h.startWorker();
    await waitUntil(
      'the worker to finish the job',
      async () => (await job.getState()) === 'completed' || (await job.getState()) === 'failed',
      10_000,
    );
    await queue.close();
    expect(h.fastly.activations).toEqual([]);
    expect((await store().get(request.id))?.state).toBe('pending');
  });
});

describe('a plan acts only on the resource it was made for (§4)', () => {
  it('a worker whose rollback.yml maps cdn to another service refuses the plan and changes nothing', async () => {
    const OTHER = 'SOTHERSERVICE000000000';
    h = await startHarness({
      mode: 'app',
      services: [
        { id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 },
        { id: OTHER, name: 'www-staging', versions: 42, active: 42 },
      ],
    });
    const request = await requestOf('cdn');
    await h.click('approve', request, PEOPLE.approver);
    const staging: Config = {
      ...h.config,
      targets: h.config.targets.map((t) =>
        t.name === 'cdn' ? { ...t, settings: { ...t.settings, serviceId: OTHER } } : t,
      ),
    };
    const { run } = await import('../../src/wiring.js');
    const { createLogger } = await import('../../src/log.js');
    const worker = await run({ ...staging, mode: 'worker' }, createLogger({ level: 'silent' }), { prefix: h.prefix });
    try {
      await waitUntil(
        'the request to end',
        async () => ['failed', 'stale', 'succeeded'].includes((await store().get(request.id))?.state ?? ''),
        10_000,
      );
    } finally {
      await worker.stop();
    }
    expect(h.fastly.activations).toEqual([]);
    expect((await store().get(request.id))?.outcome).toMatch(/SOTHERSERVICE|another|different/);
  });
});

describe('the read that decides is the last thing before the change (§5)', () => {
  it('a deploy that lands while the worker waits for Slack to take the notice is not overwritten', async () => {
    h = await startHarness();
    const request = await requestOf('cdn');
    h.slack.setLatency(900);
    const reads = h.fastly.requests.length;
    await h.click('approve', request, PEOPLE.approver);
    // The worker's first read has been answered: someone deploys v43 before the change.
    await waitUntil('the first read', () =>
      h.fastly.requests.slice(reads).some((r) => r.method === 'GET' && r.status === 200),
    );
    h.fastly.addVersion(CDN_SERVICE, { number: 43 });
    h.fastly.activateOutOfBand(CDN_SERVICE, 43);
    await waitUntil(
      'the request to end',
      async () => ['failed', 'stale', 'succeeded'].includes((await store().get(request.id))?.state ?? ''),
      10_000,
    );
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(43);
    expect(h.fastly.activations.filter((a) => a.version === 41)).toEqual([]);
    expect((await store().get(request.id))?.state).toBe('stale');
  });

  it('an activation whose answer never came is not reported as "nothing changed"; a late one is found by reading again', async () => {
    h = await startHarness();
    const request = await requestOf('cdn');
    h.fastly.injectFaults({ status: 503, count: 1, match: (r) => r.method === 'PUT' && r.path.endsWith('/activate') });
    const before = notices().length;
    await h.click('approve', request, PEOPLE.approver);
    const notice = await h.slack.waitFor(() => notices()[before], 10_000);
    await h.slack.waitFor(() => /may still land|may still go live/.test(threadText(notice)), 10_000);
    expect(threadText(notice)).not.toMatch(/nothing changed/i);
    // The activation lands late.
    h.fastly.activateOutOfBand(CDN_SERVICE, 41);
    await h.slack.waitFor(() => /\*cdn is back on v41/.test(threadText(notice)), 20_000);
    expect(threadText(notice)).toMatch(/v41 is live after all|went live after all/);
  });
});
