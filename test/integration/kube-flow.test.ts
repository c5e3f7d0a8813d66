import { afterEach, describe, expect, it } from 'vitest';
import { appRelease, CHANNELS, type Harness, PEOPLE, startHarness, webDeployment } from '../support/harness.js';
import { textOf } from '../support/slack-simulator.js';
import { waitUntil } from '../support/wait.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function requestOf(text: string) {
  const before = h.slack.messages(CHANNELS.command).filter((m) => !m.threadTs).length;
  expect((await h.command(text)).status).toBe(200);
  await h.slack.waitFor((sim) => sim.messages(CHANNELS.command).filter((m) => !m.threadTs).length > before, 10_000);
  return h.awaitRequest();
}

async function approveAndFinish(request: { id: string; channel: string; ts: string }, target: string) {
  const notices = h.slack.messages(CHANNELS.incident).filter((m) => !m.threadTs).length;
  await h.click('approve', request, PEOPLE.approver);
  const notice = await h.slack.waitFor(
    (sim) => sim.messages(CHANNELS.incident).filter((m) => !m.threadTs)[notices],
    10_000,
  );
  await h.slack.waitFor(
    (sim) =>
      sim
        .thread(CHANNELS.incident, notice.ts)
        .some((m) => new RegExp(`\\*(${target} is back on|Rollback of ${target} (failed|stopped))`).test(textOf(m))),
    30_000,
  );
  return { notice, thread: h.slack.thread(CHANNELS.incident, notice.ts).map(textOf) };
}

describe('Helm and Kubernetes rollbacks through Slack', () => {
  it('/rollback api: plans from the release history, runs helm rollback with the pinned revision, verifies', async () => {
    h = await startHarness({ kube: {} });
    const request = await requestOf('api bad release');
    const plan = textOf(request.message);
    expect(plan).toContain('Helm release app in prod');
    expect(plan).toMatch(/Live now:\* \*v1\.1\.0 \(revision 2\)\*/);
    expect(plan).toMatch(/Restore:\* \*v1\.0\.0 \(revision 1\)\*/);
    expect(plan).toContain('helm rollback app 1 --namespace prod --wait --timeout 60s');
    expect(plan).toContain('registry/api:1.0.0 come back');

    const { notice, thread } = await approveAndFinish(request, 'api');
    expect(notice.text).toBe('Rolling back api to v1.0.0 (revision 1)');
    const all = thread.join('\n');
    expect(all).toContain('✅ helm rollback app 1 finished');
    expect(all).toMatch(/helm: Rollback was a success/);
    expect(all).toMatch(/✅ Verify helm release: revision 3 is deployed \(Rollback to 1\)/);
    expect(all).toMatch(/✅ Verify rollout of deployment\/app: deployment "app" successfully rolled out/);
    expect(all).toMatch(/✅ Verify running images: 2 of 2 pods \(.*\) run registry\/api:1\.0\.0/);
    expect(all).toMatch(/\*api is back on v1\.0\.0 \(revision 1\)\*, verified\. .* within the runbook's 5 min target/);
    const releases = h.kube!.helmReleases('prod', 'app');
    expect(releases.map((r) => [r.version, r.status])).toEqual([
      [1, 'superseded'],
      [2, 'superseded'],
      [3, 'deployed'],
    ]);
    expect(h.kube!.deployment('prod', 'app')?.spec.template.spec.containers[0].image).toBe('registry/api:1.0.0');

    // The rollback's own revision (3, "Rollback to 1") is not undone from the same pipeline.
    await h.command('api undo it');
    const refusal = await h.slack.waitFor(() => h.privateTo(PEOPLE.requester).find((t) => /cannot be undone/.test(t)));
    expect(refusal).toContain('api is on v1.0.0 (revision 3) because of a rollback from v1.1.0 (revision 2)');
  });

  it('/rollback web: restores the previous ReplicaSet like kubectl rollout undo and streams the rollout', async () => {
    h = await startHarness({ kube: { readyDelayMs: 150 } });
    const request = await requestOf('web');
    const plan = textOf(request.message);
    expect(plan).toContain('deployment/web in prod');
    expect(plan).toMatch(/Live now:\* \*revision 2\* — registry\/web:1\.1\.0/);
    expect(plan).toMatch(/Restore:\* \*revision 1\* — registry\/web:1\.0\.0/);

    // The new pods wait until the worker reads the rollout after its patch (it polls), however busy the machine:
    // then there are steps to stream.
    const kube = h.kube!;
    kube.holdPodStarts();
    const deployment = '/apis/apps/v1/namespaces/prod/deployments/web';
    const readAfterPatch = () => {
      const patched = kube.requests.findIndex((r) => r.method === 'PATCH' && r.path === deployment);
      return patched >= 0 && kube.requests.slice(patched + 1).some((r) => r.method === 'GET' && r.path === deployment);
    };
    const watched = waitUntil('the worker to read the rollout', readAfterPatch, 20_000).then(() =>
      kube.releasePodStarts(),
    );
    const { thread } = await approveAndFinish(request, 'web');
    await watched;
    const all = thread.join('\n');
    expect(all).toContain('⏳ Waiting for deployment "web" rollout to finish');
    expect(all).toMatch(/✅ Verify rollout of deployment\/web: deployment "web" successfully rolled out/);
    expect(all).toMatch(/✅ Verify running images: 2 of 2 pods \(app=web\) run registry\/web:1\.0\.0/);
    expect(all).toContain('*web is back on revision 1*');
    expect(h.kube!.deployment('prod', 'web')?.spec.template.spec.containers[0].image).toBe('registry/web:1.0.0');
    expect(h.kube!.deployment('prod', 'web')?.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
  });

  it('stops a Kubernetes rollback whose plan went stale, changing nothing', async () => {
    h = await startHarness({ kube: {} });
    const request = await requestOf('web');
    h.kube!.applyDeployment('prod', webDeployment('registry/web:1.2.0'));
    const { thread } = await approveAndFinish(request, 'web');
    expect(thread.join('\n')).toContain('Stopped: the plan was made when revision 2 was live');
    expect(h.kube!.deployment('prod', 'web')?.spec.template.spec.containers[0].image).toBe('registry/web:1.2.0');
  });

  it('says a rollout that misses its progress deadline failed, with kubectl words', async () => {
    h = await startHarness({ kube: {} });
    const request = await requestOf('web');
    h.kube!.failProgress('prod', 'web');
    const { thread } = await approveAndFinish(request, 'web');
    const all = thread.join('\n');
    expect(all).toMatch(/❌ Verify rollout of deployment\/web: deployment "web" exceeded its progress deadline/);
    expect(all).toContain('*Rollback of web failed*');
  });

  it('explains a Helm release stuck in pending-upgrade instead of planning', async () => {
    h = await startHarness({ kube: { release: appRelease(['superseded', 'deployed', 'pending-upgrade']) } });
    await h.command('api');
    const answer = await h.slack.waitFor(() => h.privateTo(PEOPLE.requester).find((t) => /stuck/.test(t)));
    expect(answer).toContain('Helm release app is stuck in pending-upgrade (revision 3)');
    expect(answer).toContain('helm rollback app 2 -n prod');
    expect(h.slack.messages(CHANNELS.command)).toHaveLength(0);
  });

  it('offers the migration revert after a verified Helm rollback, with its own approval, and runs it in the migrator pod', async () => {
    h = await startHarness({ kube: { migration: true } });
    const execs: Array<{ pod: string; container: string; command: string[] }> = [];
    h.kube!.onExec((req) => {
      execs.push(req);
      return { stdout: 'Rolled back migration 0042_add_column\n', exitCode: 0 };
    });
    const { notice } = await approveAndFinish(await requestOf('api'), 'api');
    const final = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /back on/.test(textOf(m)))!;
    expect(textOf(final)).toContain('Revert migration…');
    expect(textOf(final)).toContain('./migrate down 1 in a app=migrator pod (container migrator) in prod');
    expect(execs).toHaveLength(0);

    // The requester asks for it; the request waits in the thread for another approver.
    const ask = await h.clickFollowUp(final, PEOPLE.requester);
    expect(ask.status).toBe(200);
    const pending = await h.slack.waitFor((sim) =>
      sim.thread(CHANNELS.incident, notice.ts).find((m) => /Revert migration requested: api/.test(textOf(m))),
    );
    const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(pending))![1]!;
    await h.click('approve', { id, channel: CHANNELS.incident, ts: pending.ts }, PEOPLE.requester);
    expect(
      await h.slack.waitFor(() => h.privateTo(PEOPLE.requester).find((t) => /someone else must approve/.test(t))),
    ).toBeTruthy();
    expect(execs).toHaveLength(0);

    await h.click('approve', { id, channel: CHANNELS.incident, ts: pending.ts }, PEOPLE.approver);
    const done = await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /Revert migration for api done/.test(textOf(m))),
      10_000,
    );
    expect(textOf(done)).toMatch(/exit code 0 in pod migrator-/);
    expect(execs).toEqual([expect.objectContaining({ container: 'migrator', command: ['./migrate', 'down', '1'] })]);
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');
    expect(thread).toContain('Rolled back migration 0042_add_column');
  });
});
