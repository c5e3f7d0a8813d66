import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRelease, CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import type { KubeFaultSpec, KubeRequestRecord } from '../support/kube-simulator/index.js';
import { textOf } from '../support/slack-simulator.js';

/**
 * The Kubernetes API answering 429, 5xx or nothing during Kubernetes and Helm rollbacks, through Slack
 * (the in-process app and worker on the real Redis, the Kubernetes simulator, the real helm binary).
 * Each row is its own Deployment or Helm release and request; all rows run at once on one worker.
 * Faults are armed after the plan (the plan's own reads are not faulted) and come from the simulator:
 * answered instead of the API server (nothing happened), answered after it acted (`phase: 'after'`: the
 * case a client cannot tell apart), or held unanswered.
 *
 * Reads are tried 4 times, honouring Retry-After; the rollback patch is sent again only after a read-back
 * proves it did nothing; `helm rollback` runs once, and a failure is explained from the release history.
 */
/** Row n lives in namespace kf-<n>: seeding one namespace stays cheap however many rows there are. */
const nsOf = (name: string) => `kf-${name.slice(-2)}`;
const deploymentPath = (name: string) => `/apis/apps/v1/namespaces/${nsOf(name)}/deployments/${name}`;
const secretsPath = (release: string) => `/api/v1/namespaces/${nsOf(release)}/secrets`;
const byHelm = (release: string) => (r: { userAgent?: string | undefined; query: Record<string, string> }) =>
  /^Helm\//.test(r.userAgent ?? '') && (r.query.labelSelector ?? '').split(',').includes(`name=${release}`);

interface Row {
  name: string;
  target: string;
  kind: 'kubernetes' | 'helm';
  /** The Deployment (a Helm release renders one named after it). */
  deployment: string;
  faults: KubeFaultSpec[];
  outcome: 'back on' | 'failed';
  says: string[];
  /** Words the thread must not have. */
  saysNot?: string[];
  /** How many times the Deployment's pod template changed after the approval. */
  templateChanges: 0 | 1;
  /** kubernetes rows: PATCH requests the simulator received for the Deployment. */
  patches?: number;
  /** helm rows: release revisions after the run (2 seeded). */
  releaseRevisions?: number;
  /** Asserted on the request log; may return a figure for the report. */
  check?: (log: KubeRequestRecord[]) => string | void;
  /** Helm rows: the target's timeout (helm --timeout; helm is stopped 20 s after it). */
  timeout?: string;
}

const gaps = (log: KubeRequestRecord[]) => log.slice(1).map((r, i) => r.at - log[i]!.at);

function kubeRow(
  n: number,
  name: string,
  row: Omit<Row, 'name' | 'target' | 'kind' | 'deployment' | 'faults'> & {
    faults: (deployment: string) => KubeFaultSpec[];
  },
): Row {
  const deployment = `web-${String(n).padStart(2, '0')}`;
  return { ...row, name, target: deployment, kind: 'kubernetes', deployment, faults: row.faults(deployment) };
}

function helmRow(
  n: number,
  name: string,
  row: Omit<Row, 'name' | 'target' | 'kind' | 'deployment' | 'faults'> & {
    faults: (release: string) => KubeFaultSpec[];
  },
): Row {
  const release = `app-${String(n).padStart(2, '0')}`;
  return {
    ...row,
    name,
    target: `api-${String(n).padStart(2, '0')}`,
    kind: 'helm',
    deployment: release,
    faults: row.faults(release),
  };
}

let h: Harness;
/** True once the simulator has answered a PATCH of the Deployment with 200: faults from then on hit verification. */
const patched = (name: string) => () =>
  h.kube!.requests.some((r) => r.method === 'PATCH' && r.path === deploymentPath(name) && r.status === 200);

const rows: Row[] = [
  kubeRow(1, 'read: 429 twice, Retry-After 2 s', {
    faults: (d) => [{ method: 'GET', path: deploymentPath(d), status: 429, headers: { 'Retry-After': '2' }, count: 2 }],
    outcome: 'back on',
    says: ['✅ Checked: revision 2 is live'],
    templateChanges: 1,
    patches: 1,
    check: (log) => {
      const reads = log.filter((r) => r.method === 'GET' && r.path === deploymentPath('web-01'));
      expect(reads.slice(0, 3).map((r) => r.status)).toEqual([429, 429, 200]);
      // The retries did not come before the Retry-After the simulator sent (timestamps of its own log).
      for (const gap of gaps(reads.slice(0, 3))) expect(gap).toBeGreaterThanOrEqual(2_000 - 5);
      return `tries ${gaps(reads.slice(0, 3)).join(' and ')} ms apart`;
    },
  }),
  kubeRow(2, 'read: 503 every time', {
    faults: (d) => [{ method: 'GET', path: deploymentPath(d), status: 503, count: 1_000 }],
    outcome: 'failed',
    says: [
      '❌ Could not read web-02 before acting, so nothing was changed: The Kubernetes API at https://127.0.0.1:',
      'answered 503 4 times over',
      'when trying to read deployment kf-02/web-02.',
      'Check the API server (`kubectl get --raw /readyz`)',
    ],
    templateChanges: 0,
    patches: 0,
    check: (log) => {
      expect(log.filter((r) => r.path === deploymentPath('web-02') && r.status === 503)).toHaveLength(4);
    },
  }),
  kubeRow(3, 'read: no answer once (10 s timeout)', {
    faults: (d) => [{ method: 'GET', path: deploymentPath(d), hang: true, count: 1 }],
    outcome: 'back on',
    says: ['✅ Checked: revision 2 is live'],
    templateChanges: 1,
    patches: 1,
    check: (log) => {
      const reads = log.filter((r) => r.method === 'GET' && r.path === deploymentPath('web-03'));
      expect(reads[0]?.fault).toBe('held');
      expect(gaps(reads.slice(0, 2))[0]).toBeGreaterThanOrEqual(10_000 - 5);
      return `second try ${gaps(reads.slice(0, 2))[0]} ms after the first`;
    },
  }),
  kubeRow(4, 'patch: 503 after applying', {
    faults: (d) => [{ method: 'PATCH', path: deploymentPath(d), status: 503, phase: 'after', count: 1 }],
    outcome: 'back on',
    says: [
      'The Kubernetes API answered 503 (Service Unavailable: injected fault: 503 ServiceUnavailable) to the rollback patch, but deployment/web-04 already has the restored pod template: it was applied, and is not sent again.',
      '✅ Verify running images: 2 of 2 pods (app=web-04) run registry/web:1.0.0',
    ],
    templateChanges: 1,
    patches: 1,
  }),
  kubeRow(5, 'patch: 503, nothing applied', {
    faults: (d) => [{ method: 'PATCH', path: deploymentPath(d), status: 503, count: 1 }],
    outcome: 'back on',
    says: [
      'to the rollback patch; read back, deployment/web-05 is unchanged (revision 2), so the patch is sent again (its revision and resourceVersion tests let it apply only once).',
    ],
    templateChanges: 1,
    patches: 2,
  }),
  kubeRow(6, 'patch: 429, Retry-After 1 s', {
    faults: (d) => [
      { method: 'PATCH', path: deploymentPath(d), status: 429, headers: { 'Retry-After': '1' }, count: 1 },
    ],
    outcome: 'back on',
    says: [
      'Kubernetes answered 429 to the rollback patch, so it was not applied; sending it again in 1 s, as its Retry-After asks.',
    ],
    templateChanges: 1,
    patches: 2,
    check: (log) => {
      const patches = log.filter((r) => r.method === 'PATCH' && r.path === deploymentPath('web-06'));
      expect(gaps(patches)[0]).toBeGreaterThanOrEqual(1_000 - 5);
      return `sent again ${gaps(patches)[0]} ms after the 429`;
    },
  }),
  kubeRow(7, 'patch: no answer, nothing applied', {
    faults: (d) => [{ method: 'PATCH', path: deploymentPath(d), hang: true, count: 1 }],
    outcome: 'back on',
    says: [
      'The Kubernetes API did not answer within 10 s to the rollback patch; read back, deployment/web-07 is unchanged (revision 2), so the patch is sent again',
    ],
    templateChanges: 1,
    patches: 2,
  }),
  kubeRow(8, 'patch: no answer, but applied', {
    faults: (d) => [{ method: 'PATCH', path: deploymentPath(d), hang: true, phase: 'after', count: 1 }],
    outcome: 'back on',
    says: [
      'The Kubernetes API did not answer within 10 s to the rollback patch, but deployment/web-08 already has the restored pod template: it was applied, and is not sent again.',
    ],
    templateChanges: 1,
    patches: 1,
  }),
  kubeRow(9, 'patch: 503 every time', {
    faults: (d) => [{ method: 'PATCH', path: deploymentPath(d), status: 503, count: 1_000 }],
    outcome: 'failed',
    says: [
      'answered 503 3 times over',
      'when trying to patch deployment kf-09/web-09; read back after each, deployment/web-09 was unchanged (revision 2), so nothing was changed.',
      'Re-read: revision 2 is still live; nothing changed.',
      'kubectl rollout undo deployment/web-09 -n kf-09 --to-revision=',
    ],
    templateChanges: 0,
    patches: 3,
  }),
  kubeRow(10, 'verify: reads fail after the change', {
    faults: (d) => [{ method: 'GET', path: deploymentPath(d), status: 503, count: 1_000, match: patched(d) }],
    outcome: 'failed',
    says: [
      '❌ Could not verify: The rollback was applied, but verification could not read deployment/web-10: The Kubernetes API at https://127.0.0.1:',
      'answered 503 4 times over',
      'Do not send the rollback again',
    ],
    // What was read before the change says nothing about what is live after it.
    saysNot: ['Live now:'],
    templateChanges: 1,
    patches: 1,
  }),
  helmRow(11, 'helm: its first read answered 503', {
    faults: (r) => [{ method: 'GET', path: secretsPath(r), status: 503, count: 1_000, match: byHelm(r) }],
    outcome: 'failed',
    says: [
      'helm rollback exited with code 1: Error: query: failed to query with labels: injected fault: 503 ServiceUnavailable',
      'Helm recorded no new revision: app-11 is still on revision 2, so nothing was rolled back.',
      'helm is not run again by itself.',
      '`helm rollback app-11 1 -n kf-11 --wait`',
      'Re-read: v1.1.0 (revision 2) is still live; nothing changed.',
    ],
    templateChanges: 0,
    releaseRevisions: 2,
  }),
  helmRow(12, 'helm: its Deployment patch answered 503', {
    faults: (r) => [{ method: 'PATCH', path: deploymentPath(r), status: 503, count: 1_000 }],
    outcome: 'failed',
    says: [
      'cannot patch "app-12" with kind Deployment: injected fault: 503 ServiceUnavailable',
      'Helm recorded revision 3 as the rollback to revision 1 and marked it failed ("Rollback "app-12" failed: cannot patch',
      'some resources may have changed, and helm is not run again.',
      '❌ Verify helm release: revision 3 is failed',
      '❌ Verify running images: 2 of 2 pods',
    ],
    templateChanges: 0,
    releaseRevisions: 3,
  }),
  helmRow(13, 'helm: its last record update answered 503', {
    faults: (r) => [{ method: 'PUT', path: `${secretsPath(r)}/sh.helm.release.v1.${r}.v3`, status: 503, count: 1_000 }],
    outcome: 'failed',
    says: [
      'Helm recorded revision 3 as the rollback to revision 1 but stopped while it was pending-rollback ("Rollback to 1"): the change may or may not have reached the cluster, and helm is not run again.',
      '❌ Verify helm release: revision 3 is pending-rollback (Rollback to 1)',
      '✅ Verify running images: 2 of 2 pods',
    ],
    templateChanges: 1,
    releaseRevisions: 3,
  }),
  helmRow(14, 'helm: 429 twice, Retry-After 1 s', {
    faults: (r) => [
      { method: 'GET', path: secretsPath(r), status: 429, headers: { 'Retry-After': '1' }, count: 2, match: byHelm(r) },
    ],
    outcome: 'back on',
    says: ['✅ helm rollback app-14 1 finished', '✅ Verify helm release: revision 3 is deployed (Rollback to 1)'],
    templateChanges: 1,
    releaseRevisions: 3,
    check: (log) => {
      const reads = log.filter((r) => r.path === secretsPath('app-14') && byHelm('app-14')(r));
      expect(reads.slice(0, 3).map((r) => r.status)).toEqual([429, 429, 200]);
      for (const gap of gaps(reads.slice(0, 3))) expect(gap).toBeGreaterThanOrEqual(1_000 - 5);
      return `helm's tries ${gaps(reads.slice(0, 3)).join(' and ')} ms apart`;
    },
  }),
  helmRow(15, 'helm: no answer (helm waits for ever)', {
    faults: (r) => [{ method: 'GET', path: secretsPath(r), hang: true, count: 1, match: byHelm(r) }],
    timeout: '5s',
    outcome: 'failed',
    says: [
      'helm rollback did not finish within 25 s (its --timeout and 20 s more), so it was stopped.',
      'Helm recorded no new revision: app-15 is still on revision 2, so nothing was rolled back.',
      'Re-read: v1.1.0 (revision 2) is still live; nothing changed.',
    ],
    templateChanges: 0,
    releaseRevisions: 2,
  }),
];

function deployment(name: string, image: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}

function targetYaml(row: Row): string[] {
  const namespace = nsOf(row.deployment);
  if (row.kind === 'kubernetes')
    return [
      `  ${row.target}:`,
      '    kind: kubernetes',
      `    namespace: ${namespace}`,
      `    deployment: ${row.deployment}`,
      '    timeout: 60s',
    ];
  return [
    `  ${row.target}:`,
    '    kind: helm',
    `    release: ${row.deployment}`,
    `    namespace: ${namespace}`,
    `    timeout: ${row.timeout ?? '60s'}`,
  ];
}

beforeAll(async () => {
  h = await startHarness({ kube: {}, extraTargets: rows.flatMap(targetYaml).join('\n') });
  for (const row of rows) {
    const namespace = nsOf(row.deployment);
    if (row.kind === 'kubernetes')
      for (const image of ['registry/web:1.0.0', 'registry/web:1.1.0'])
        h.kube!.applyDeployment(namespace, deployment(row.deployment, image));
    else h.kube!.seedHelmRelease({ ...appRelease(['superseded', 'deployed']), name: row.deployment, namespace });
    // Seeding is synchronous: let the bot's own connections breathe between rows.
    await new Promise((resolve) => setImmediate(resolve));
  }
});
afterAll(async () => h?.close());

async function request(target: string) {
  expect((await h.command(`${target} kube api faults`)).status).toBe(200);
  const pattern = new RegExp(`Rollback requested: \\*?${target}\\b`);
  const message = await h.slack.waitFor(
    (sim) => sim.messages(CHANNELS.command).find((m) => !m.threadTs && pattern.test(textOf(m))),
    15_000,
  );
  const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(message))?.[1];
  if (!id) throw new Error(`no request id in: ${textOf(message)}`);
  return { id, channel: CHANNELS.command, ts: message.ts };
}

async function finished(target: string): Promise<{ thread: string[]; finalAt: number }> {
  const final = new RegExp(`\\*(${target} is back on|Rollback of ${target} (failed|stopped))`);
  const notice = await h.slack.waitFor(
    (sim) =>
      sim.messages(CHANNELS.incident).find((m) => !m.threadTs && textOf(m).startsWith(`Rolling back ${target} to `)),
    15_000,
  );
  await h.slack.waitFor((sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => final.test(textOf(m))), 60_000);
  const finalAt = Date.now();
  return { thread: h.slack.thread(CHANNELS.incident, notice.ts).map(textOf), finalAt };
}

describe('the Kubernetes API failing during Kubernetes and Helm rollbacks', () => {
  it('retries reads within bounds honouring Retry-After, fails clearly, rolls back at most once, and runs helm once', async () => {
    const requests = [];
    for (const row of rows) requests.push(await request(row.target));
    const before = rows.map((row) => h.kube!.deploymentTemplateChanges(nsOf(row.deployment), row.deployment));
    const from = h.kube!.requests.length;
    for (const row of rows) for (const fault of row.faults) h.kube!.injectFaults(fault);
    const clicked: number[] = [];
    await Promise.all(
      requests.map(async (r, i) => {
        clicked[i] = Date.now();
        expect((await h.click('approve', r, PEOPLE.approver)).status).toBe(200);
      }),
    );
    const results = await Promise.all(rows.map((row) => finished(row.target)));
    const log = h.kube!.requests.slice(from);

    const report: string[] = [];
    rows.forEach((row, i) => {
      const { thread, finalAt } = results[i]!;
      const all = thread.join('\n');
      const where = `${row.name}:\n${all}`;
      for (const words of row.says) expect(all, where).toContain(words);
      for (const words of row.saysNot ?? []) expect(all, where).not.toContain(words);
      const finals = thread.filter((t) =>
        new RegExp(`\\*(${row.target} is back on|Rollback of ${row.target} (failed|stopped))`).test(t),
      );
      expect(finals, where).toHaveLength(1);
      expect(finals[0], where).toContain(
        row.outcome === 'back on' ? `*${row.target} is back on` : `*Rollback of ${row.target} failed*`,
      );

      const namespace = nsOf(row.deployment);
      const changes = h.kube!.deploymentTemplateChanges(namespace, row.deployment) - before[i]!;
      expect(changes, where).toBe(row.templateChanges);
      const image = h.kube!.deployment(namespace, row.deployment)?.spec.template.spec.containers[0].image as string;
      expect(image, where).toMatch(row.templateChanges === 1 ? /:1\.0\.0$/ : /:1\.1\.0$/);
      if (row.kind === 'kubernetes') {
        // What `kubectl rollout history` shows: the revision went up once (2 → 3, the old ReplicaSet reused), or not at all.
        const revision = h.kube!.deployment(namespace, row.deployment)?.metadata.annotations[
          'deployment.kubernetes.io/revision'
        ];
        expect(revision, where).toBe(row.templateChanges === 1 ? '3' : '2');
      }
      const patches = log.filter((r) => r.method === 'PATCH' && r.path === deploymentPath(row.deployment));
      if (row.patches !== undefined) expect(patches, where).toHaveLength(row.patches);
      if (row.releaseRevisions !== undefined) {
        const releases = h.kube!.helmReleases(namespace, row.deployment);
        // Revisions 1 and 2 seeded; a third only if helm got as far as recording the rollback; never a fourth.
        expect(
          releases.map((r) => r.version),
          where,
        ).toEqual(Array.from({ length: row.releaseRevisions }, (_, k) => k + 1));
      }
      const figure = row.check?.(log);
      const faulted = log.filter(
        (r) =>
          r.fault &&
          (r.path === deploymentPath(row.deployment) ||
            r.path.startsWith(`${secretsPath(row.deployment)}/sh.helm.release.v1.${row.deployment}.`) ||
            byHelm(row.deployment)(r)),
      ).length;
      const what =
        row.kind === 'kubernetes'
          ? `patches ${patches.length}`
          : `revisions ${h.kube!.helmReleases(namespace, row.deployment).length}`;
      report.push(
        `${row.name.padEnd(42)} ${row.outcome.padEnd(7)}  faults answered ${String(faulted).padStart(2)}  template changes ${changes}  ${what}  click → last message ${finalAt - clicked[i]!} ms${figure ? `; ${figure}` : ''}`,
      );
    });
    // helm ran once per release: one release record created where helm got that far, none elsewhere.
    for (const row of rows.filter((r) => r.kind === 'helm')) {
      const creates = log.filter(
        (r) => r.method === 'POST' && r.path === secretsPath(row.deployment) && /^Helm\//.test(r.userAgent ?? ''),
      );
      expect(creates.length, row.name).toBe((row.releaseRevisions ?? 2) - 2);
    }
    console.log(`Kubernetes API failing:\n${report.map((r) => `  ${r}`).join('\n')}`);
  });
});
