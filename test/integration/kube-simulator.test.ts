/**
 * The Kubernetes simulator, proven with the real clients: kubectl and helm from the lambda layer
 * (test/support/kube-binaries.ts) and @kubernetes/client-node, each pointed at it by a kubeconfig.
 * What the binaries print here is their own output, computed from what the simulator served.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { AppsV1Api, CoreV1Api, Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeBinaries, kubeBinaries } from '../support/kube-binaries.js';
import { type KubeObject, KubeSimulator, releaseSecretName } from '../support/kube-simulator/index.js';
import { waitUntil } from '../support/wait.js';

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A sandbox for the binaries: own HOME (kubectl's discovery cache), helm dirs and KUBECONFIG. */
function clientEnv(sim: KubeSimulator, dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    KUBECONFIG: sim.writeKubeconfig(dir),
    HELM_CACHE_HOME: path.join(dir, 'helm-cache'),
    HELM_CONFIG_HOME: path.join(dir, 'helm-config'),
    HELM_DATA_HOME: path.join(dir, 'helm-data'),
  };
}

function deployment(
  name: string,
  image: string,
  extra: { labels?: Record<string, string>; spec?: object } = {},
): KubeObject {
  const labels = extra.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name, image }] } },
      ...extra.spec,
    },
  };
}

const liveImages = (sim: KubeSimulator, selector: string): string[] =>
  sim
    .pods('prod', selector)
    .filter((p) => !p.metadata.deletionTimestamp)
    .flatMap((p) => p.spec.containers.map((c: { image: string }) => c.image));

const revisionOf = (rs: KubeObject): string => rs.metadata.annotations['deployment.kubernetes.io/revision'];

let bins: KubeBinaries;
const dirs: string[] = [];
const sims: KubeSimulator[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-sim-test-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  bins = await kubeBinaries();
});

afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl against the simulator', () => {
  let sim: KubeSimulator;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  const kubectl = (...args: string[]) => run(bins.kubectl, args, env);

  beforeAll(async () => {
    sim = await KubeSimulator.start({ readyDelayMs: 150 });
    sims.push(sim);
    dir = tempDir();
    env = clientEnv(sim, dir);
    sim.createNamespace('prod');
    // maxUnavailable 1 lets old pods go before every new one is ready: kubectl's "x of y available" phase.
    const strategy = { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } };
    sim.applyDeployment(
      'prod',
      deployment('app', 'registry.example.com/api:1.4.0', { labels: { app: 'api' }, spec: strategy }),
    );
    sim.applyDeployment('prod', deployment('web', 'nginx:1.25'));
    sim.applyDeployment('prod', deployment('web', 'nginx:1.26'));
    sim.applyDeployment(
      'prod',
      deployment('worker', 'registry.example.com/worker:6', { spec: { progressDeadlineSeconds: 2 } }),
    );
    sim.applyDeployment(
      'prod',
      deployment('worker', 'registry.example.com/worker:7', { spec: { progressDeadlineSeconds: 2 } }),
    );
  });

  it('get deploy and get pods -o jsonpath show what the simulator holds', async () => {
    const deploys = await kubectl('get', 'deploy', '-n', 'prod');
    expect(deploys.code, deploys.stderr).toBe(0);
    const lines = deploys.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ['app', '2/2', '2', '2'],
      ['web', '2/2', '2', '2'],
      ['worker', '2/2', '2', '2'],
    ]);

    const images = await kubectl(
      'get',
      'pods',
      '-n',
      'prod',
      '-l',
      'app=api',
      '-o',
      'jsonpath={.items[*].spec.containers[*].image}',
    );
    expect(images.code, images.stderr).toBe(0);
    expect(images.stdout.split(' ')).toEqual(['registry.example.com/api:1.4.0', 'registry.example.com/api:1.4.0']);
    expect(images.stdout.split(' ')).toEqual(liveImages(sim, 'app=api'));
  });

  it('kubectl apply rolls out a new image and rollout status follows it to the end', async () => {
    const manifest = path.join(dir, 'app.yaml');
    const updated = deployment('app', 'registry.example.com/api:1.5.0', {
      labels: { app: 'api' },
      spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } },
    });
    writeFileSync(manifest, JSON.stringify({ ...updated, metadata: { ...updated.metadata, namespace: 'prod' } }));
    // New pods wait until `rollout status` (a second process) watches, however slowly it starts on a busy machine.
    sim.holdPodStarts();
    const applied = await kubectl('apply', '-f', manifest);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout.trim()).toBe('deployment.apps/app configured');

    const since = Date.now();
    const following = kubectl('rollout', 'status', 'deployment/app', '-n', 'prod', '--timeout=30s');
    await waitUntil('rollout status to watch the Deployment', () => sim.watching('deployments', 'app', since), 20_000);
    sim.releasePodStarts();
    const status = await following;
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(
      'Waiting for deployment "app" rollout to finish: 1 old replicas are pending termination...',
    );
    expect(status.stdout).toContain(
      'Waiting for deployment "app" rollout to finish: 1 of 2 updated replicas are available...',
    );
    expect(status.stdout.trim().split('\n').at(-1)).toBe('deployment "app" successfully rolled out');

    expect(liveImages(sim, 'app=api')).toEqual(['registry.example.com/api:1.5.0', 'registry.example.com/api:1.5.0']);
    const d = sim.deployment('prod', 'app');
    expect(d?.status).toMatchObject({
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(d?.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
  });

  it('rollout undo brings the previous image back on its old ReplicaSet, with the revision bumped', async () => {
    const before = sim.replicaSets('prod').filter((rs) => rs.metadata.labels.app === 'web');
    const old = before.find((rs) => rs.spec.template.spec.containers[0].image === 'nginx:1.25');
    expect(old && revisionOf(old)).toBe('1');

    const undo = await kubectl('rollout', 'undo', 'deployment/web', '-n', 'prod');
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout.trim()).toBe('deployment.apps/web rolled back');
    const status = await kubectl('rollout', 'status', 'deployment/web', '-n', 'prod', '--timeout=30s');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('deployment "web" successfully rolled out');

    expect(sim.deployment('prod', 'web')?.spec.template.spec.containers[0].image).toBe('nginx:1.25');
    expect(liveImages(sim, 'app=web')).toEqual(['nginx:1.25', 'nginx:1.25']);
    const after = sim.replicaSets('prod').filter((rs) => rs.metadata.labels.app === 'web');
    expect(after.map((rs) => rs.metadata.name).sort()).toEqual(before.map((rs) => rs.metadata.name).sort());
    const reused = after.find((rs) => rs.metadata.uid === old?.metadata.uid);
    expect(revisionOf(reused as KubeObject)).toBe('3');
    expect(reused?.metadata.annotations['deployment.kubernetes.io/revision-history']).toBe('1');

    const history = await kubectl('rollout', 'history', 'deployment/web', '-n', 'prod');
    expect(history.code, history.stderr).toBe(0);
    const revisions = history.stdout
      .trim()
      .split('\n')
      .slice(2)
      .map((l) => l.split(/\s+/)[0]);
    expect(revisions).toEqual(['2', '3']);
  });

  it('a rollout that never becomes ready ends with kubectl reporting the exceeded progress deadline', async () => {
    // The rollout that fails here is a rollback onto an old ReplicaSet: the case a break-glass tool meets.
    sim.failProgress('prod', 'worker');
    const undo = await kubectl('rollout', 'undo', 'deployment/worker', '-n', 'prod');
    expect(undo.code, undo.stderr).toBe(0);

    const status = await kubectl('rollout', 'status', 'deployment/worker', '-n', 'prod', '--timeout=30s');
    expect(status.code).not.toBe(0);
    expect(status.stderr).toContain('error: deployment "worker" exceeded its progress deadline');
    const progressing = sim
      .deployment('prod', 'worker')
      ?.status.conditions.find((c: KubeObject) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    // Old pods keep serving: maxUnavailable 25% of 2 rounds down to 0.
    expect(liveImages(sim, 'app=worker').filter((i) => i.endsWith(':7'))).toHaveLength(2);

    // Rolling forward again to the healthy template recovers.
    expect((await kubectl('rollout', 'undo', 'deployment/worker', '-n', 'prod')).code).toBe(0);
    const recovered = await kubectl('rollout', 'status', 'deployment/worker', '-n', 'prod', '--timeout=30s');
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(liveImages(sim, 'app=worker')).toEqual(['registry.example.com/worker:7', 'registry.example.com/worker:7']);
  });

  it('a paused Deployment does not roll, refuses rollout undo, and rolls once resumed', async () => {
    expect((await kubectl('rollout', 'pause', 'deployment/web', '-n', 'prod')).code).toBe(0);
    const rsBefore = sim.replicaSets('prod').filter((rs) => rs.metadata.labels.app === 'web').length;
    const set = await kubectl('set', 'image', 'deployment/web', 'web=nginx:1.27', '-n', 'prod');
    expect(set.code, set.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.replicaSets('prod').filter((rs) => rs.metadata.labels.app === 'web')).toHaveLength(rsBefore);
    expect(liveImages(sim, 'app=web')).toEqual(['nginx:1.25', 'nginx:1.25']);
    const paused = sim.deployment('prod', 'web');
    expect(paused?.status.observedGeneration).toBe(paused?.metadata.generation);
    expect(paused?.status.conditions.find((c: KubeObject) => c.type === 'Progressing')?.reason).toBe(
      'DeploymentPaused',
    );

    const undo = await kubectl('rollout', 'undo', 'deployment/web', '-n', 'prod');
    expect(undo.code).not.toBe(0);
    expect(undo.stderr).toContain('you cannot rollback a paused deployment');

    expect((await kubectl('rollout', 'resume', 'deployment/web', '-n', 'prod')).code).toBe(0);
    const status = await kubectl('rollout', 'status', 'deployment/web', '-n', 'prod', '--timeout=30s');
    expect(status.code, status.stderr).toBe(0);
    expect(liveImages(sim, 'app=web')).toEqual(['nginx:1.27', 'nginx:1.27']);
  });

  it('kubectl exec runs through onExec over the v5 WebSocket protocol and passes the exit code on', async () => {
    sim.onExec((req) =>
      req.command[0] === 'true'
        ? { stdout: `hello from ${req.container}\n`, exitCode: 0 }
        : { stdout: '', stderr: 'boom\n', exitCode: 4 },
    );
    const pod = sim.pods('prod', 'app=api').find((p) => !p.metadata.deletionTimestamp)?.metadata.name as string;
    const ok = await kubectl('exec', '-n', 'prod', pod, '--', 'true');
    expect([ok.code, ok.stdout]).toEqual([0, 'hello from app\n']);
    const failed = await kubectl('exec', '-n', 'prod', pod, '--', 'false');
    expect([failed.code, failed.stderr]).toEqual([4, 'boom\ncommand terminated with exit code 4\n']);
  });

  it('a JSON patch testing /metadata/resourceVersion applies only to that version: on a stale one kubectl gets 422 and nothing changes', async () => {
    sim.applyDeployment('prod', deployment('edge', 'nginx:1.25'));
    const image = () => sim.deployment('prod', 'edge')?.spec.template.spec.containers[0].image;
    const read = await kubectl('get', 'deployment/edge', '-n', 'prod', '-o', 'jsonpath={.metadata.resourceVersion}');
    expect(read.code, read.stderr).toBe(0);
    const decided = read.stdout;
    expect(decided).toBe(sim.deployment('prod', 'edge')?.metadata.resourceVersion);
    // Any write moves the resourceVersion on, a label as much as a template.
    expect((await kubectl('label', 'deployment/edge', '-n', 'prod', 'team=cdn')).code).toBe(0);
    const patchTo = (resourceVersion: string) =>
      kubectl(
        'patch',
        'deployment/edge',
        '-n',
        'prod',
        '--type=json',
        '-p',
        JSON.stringify([
          { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
          { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:1.26' },
        ]),
      );
    const from = sim.requests.length;
    const stale = await patchTo(decided);
    expect(stale.code).not.toBe(0);
    // What a real API server answers: 422 Invalid, json-patch's own words dropped.
    expect(stale.stderr.trim()).toBe(
      'The request is invalid: the server rejected our request due to an error in our request',
    );
    expect(
      sim.requests
        .slice(from)
        .filter((r) => r.method === 'PATCH')
        .map((r) => r.status),
    ).toEqual([422]);
    expect(image()).toBe('nginx:1.25');

    const current = sim.deployment('prod', 'edge')?.metadata.resourceVersion as string;
    expect(current).not.toBe(decided);
    const applied = await patchTo(current);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout.trim()).toBe('deployment.apps/edge patched');
    expect(image()).toBe('nginx:1.26');
  });

  it('with the controllers stalled, kubectl set image is stored but not observed (same revision, no new ReplicaSet); resumed, it rolls out', async () => {
    const status = await kubectl('rollout', 'status', 'deployment/edge', '-n', 'prod', '--timeout=30s');
    expect(status.code, status.stderr).toBe(0);
    const edgeSets = () => sim.replicaSets('prod').filter((rs) => rs.metadata.labels.app === 'edge');
    const before = sim.deployment('prod', 'edge') as KubeObject;
    const setsBefore = edgeSets().length;

    sim.stallControllers();
    const set = await kubectl('set', 'image', 'deployment/edge', 'edge=nginx:1.27', '-n', 'prod');
    expect(set.code, set.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    const stalled = sim.deployment('prod', 'edge') as KubeObject;
    expect(stalled.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    expect(stalled.metadata.generation).toBe(before.metadata.generation + 1);
    expect(stalled.status.observedGeneration).toBe(before.metadata.generation);
    expect(revisionOf(stalled)).toBe(revisionOf(before));
    expect(edgeSets()).toHaveLength(setsBefore);
    expect(liveImages(sim, 'app=edge')).toEqual(['nginx:1.26', 'nginx:1.26']);

    sim.resumeControllers();
    const rolled = await kubectl('rollout', 'status', 'deployment/edge', '-n', 'prod', '--timeout=30s');
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(liveImages(sim, 'app=edge')).toEqual(['nginx:1.27', 'nginx:1.27']);
    expect(Number(revisionOf(sim.deployment('prod', 'edge') as KubeObject))).toBe(Number(revisionOf(before)) + 1);
  });

  it("records in metadata.managedFields who changed which field, keyed by kubectl's fieldManager", async () => {
    const all = sim.deployment('prod', 'edge')?.metadata.managedFields as KubeObject[];
    // The seed's apply (applyDeployment, as `kubectl apply` is recorded), which the later writes took fields from.
    expect(all[0]?.manager).toBe('kubectl-client-side-apply');
    const entries = all.slice(1);
    // label, then the JSON patch of the image, then set image, which took the image from kubectl-patch.
    expect(entries.map((e) => `${e.manager} ${e.operation}`)).toEqual(['kubectl-label Update', 'kubectl-set Update']);
    expect(entries[0]?.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:team': {} } } });
    expect(entries[1]?.fieldsV1).toEqual({
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"edge"}': { 'f:image': {} } } } } },
    });
    const shown = await kubectl(
      'get',
      'deployment/edge',
      '-n',
      'prod',
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    );
    expect(shown.stdout).toBe('kubectl-client-side-apply kubectl-label kubectl-set');
  });

  it('answers what kubectl asked for, as kubectl asked for it', () => {
    const seen = sim.requests;
    expect(seen.filter((r) => r.status === 0 || r.status >= 500)).toEqual([]);
    // Watches kubectl rollout status opened: a list, then a watch from its resourceVersion.
    expect(seen.some((r) => r.query.watch === 'true' && r.query.fieldSelector === 'metadata.name=app')).toBe(true);
    expect(seen.some((r) => r.method === 'PATCH' && r.contentType === 'application/strategic-merge-patch+json')).toBe(
      true,
    );
    expect(seen.some((r) => r.method === 'PATCH' && r.contentType === 'application/json-patch+json')).toBe(true);
  });
});

describe('helm and @kubernetes/client-node against the simulator', () => {
  let sim: KubeSimulator;
  let env: NodeJS.ProcessEnv;
  let kubeconfigPath: string;
  const helm = (...args: string[]) => run(bins.helm, args, env);
  const revisions = [
    {
      image: 'registry.example.com/api:1.2.0',
      status: 'superseded' as const,
      appVersion: '1.2.0',
      chartVersion: '0.3.0',
    },
    {
      image: 'registry.example.com/api:1.3.0',
      status: 'superseded' as const,
      appVersion: '1.3.0',
      chartVersion: '0.3.1',
    },
    {
      image: 'registry.example.com/api:1.4.0',
      status: 'deployed' as const,
      appVersion: '1.4.0',
      chartVersion: '0.4.0',
    },
  ];

  beforeAll(async () => {
    sim = await KubeSimulator.start({ readyDelayMs: 150 });
    sims.push(sim);
    env = clientEnv(sim, tempDir());
    kubeconfigPath = env.KUBECONFIG as string;
    sim.seedHelmRelease({
      name: 'app',
      namespace: 'prod',
      chart: { name: 'api', version: '0.4.0', appVersion: '1.4.0' },
      revisions,
    });
  });

  it('helm history lists the seeded revisions with status, chart and app version', async () => {
    const history = await helm('history', 'app', '-n', 'prod');
    expect(history.code, history.stderr).toBe(0);
    const rows = history.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t').map((c) => c.trim()));
    expect(rows[0]).toEqual(['REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION', 'DESCRIPTION']);
    expect(rows.slice(1).map((r) => [r[0], r[2], r[3], r[4], r[5]])).toEqual([
      ['1', 'superseded', 'api-0.3.0', '1.2.0', 'Install complete'],
      ['2', 'superseded', 'api-0.3.1', '1.3.0', 'Upgrade complete'],
      ['3', 'deployed', 'api-0.4.0', '1.4.0', 'Upgrade complete'],
    ]);
  });

  it('helm rollback --wait writes the next revision, supersedes the current one and rolls the Deployment back', async () => {
    const from = sim.requests.length;
    const rollback = await helm('rollback', 'app', '2', '-n', 'prod', '--wait', '--timeout', '60s');
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('Rollback was a success! Happy Helming!');

    // helm waited for the rollout: the pods that remain run the target revision's image and are Ready.
    expect(sim.deployment('prod', 'app')?.spec.template.spec.containers[0].image).toBe(revisions[1]?.image);
    expect(sim.deployment('prod', 'app')?.status).toMatchObject({ updatedReplicas: 2, availableReplicas: 2 });
    expect(liveImages(sim, 'app=api')).toEqual([revisions[1]?.image, revisions[1]?.image]);

    const secret = sim.secrets('prod').find((s) => s.metadata.name === releaseSecretName('app', 4));
    expect(secret?.type).toBe('helm.sh/release.v1');
    expect(secret?.metadata.labels).toMatchObject({ name: 'app', owner: 'helm', status: 'deployed', version: '4' });
    const releases = sim.helmReleases('prod', 'app');
    expect(releases.map((r) => [r.version, r.status])).toEqual([
      [1, 'superseded'],
      [2, 'superseded'],
      [3, 'superseded'],
      [4, 'deployed'],
    ]);
    expect(releases[3]).toMatchObject({
      description: 'Rollback to 2',
      chartVersion: '0.3.1',
      appVersion: '1.3.0',
      images: [revisions[1]?.image],
    });

    // helm's clientset writes release Secrets as protobuf; the simulator read them.
    const writes = sim.requests.slice(from).filter((r) => r.path.endsWith('/secrets') || r.path.includes('/secrets/'));
    expect(
      writes.filter((r) => r.method === 'POST' || r.method === 'PUT').map((r) => [r.method, r.contentType, r.status]),
    ).toEqual([
      ['POST', 'application/vnd.kubernetes.protobuf', 201],
      ['PUT', 'application/vnd.kubernetes.protobuf', 200],
      ['PUT', 'application/vnd.kubernetes.protobuf', 200],
    ]);

    const history = await helm('history', 'app', '-n', 'prod');
    expect(history.stdout.trim().split('\n').at(-1)).toMatch(
      /^4\s+\t.*\tdeployed\s*\tapi-0\.3\.1\s*\t1\.3\.0\s*\tRollback to 2\s*$/,
    );
  });

  it('helm rollback of a release Helm 4 installed with server-side apply sends an apply patch', async () => {
    sim.seedHelmRelease({
      name: 'edge',
      namespace: 'prod',
      applyMethod: 'ssa',
      chart: { name: 'edge', version: '1.0.0', appVersion: '1.0.0' },
      revisions: [
        { image: 'registry.example.com/edge:1.0.0', status: 'superseded' },
        { image: 'registry.example.com/edge:1.1.0', status: 'deployed' },
      ],
    });
    const from = sim.requests.length;
    const rollback = await helm('rollback', 'edge', '1', '-n', 'prod', '--wait', '--timeout', '60s');
    expect(rollback.code, rollback.stderr).toBe(0);
    const patch = sim.requests.slice(from).find((r) => r.method === 'PATCH');
    expect(patch).toMatchObject({
      path: '/apis/apps/v1/namespaces/prod/deployments/edge',
      contentType: 'application/apply-patch+yaml',
      status: 200,
    });
    expect(liveImages(sim, 'app=edge')).toEqual(['registry.example.com/edge:1.0.0', 'registry.example.com/edge:1.0.0']);
    expect(sim.helmReleases('prod', 'edge').map((r) => r.status)).toEqual(['superseded', 'superseded', 'deployed']);
  });

  it('client-node reads Deployments, ReplicaSets and Pods', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const d = await apps.readNamespacedDeployment({ name: 'app', namespace: 'prod' });
    expect(d.spec?.template.spec?.containers[0]?.image).toBe(revisions[1]?.image);
    const rsList = await apps.listNamespacedReplicaSet({ namespace: 'prod', labelSelector: 'app=api' });
    expect(
      rsList.items
        .map((rs) => [
          rs.metadata?.annotations?.['deployment.kubernetes.io/revision'],
          rs.spec?.template?.spec?.containers[0]?.image,
        ])
        .sort(),
    ).toEqual([
      ['1', revisions[0]?.image],
      ['3', revisions[2]?.image],
      ['4', revisions[1]?.image],
    ]);
    const pods = await core.listNamespacedPod({
      namespace: 'prod',
      labelSelector: 'app=api',
      fieldSelector: 'status.phase=Running',
    });
    expect(pods.items.length).toBeGreaterThanOrEqual(2);
    expect(pods.items.every((p) => p.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(true);
  });

  it('injected faults answer as the API server would, then clear', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const apps = kc.makeApiClient(AppsV1Api);
    sim.injectFaults({
      status: 503,
      count: 1,
      match: (r) => r.method === 'GET' && r.path.endsWith('/deployments/app'),
    });
    await expect(apps.readNamespacedDeployment({ name: 'app', namespace: 'prod' })).rejects.toMatchObject({
      code: 503,
    });
    await expect(apps.readNamespacedDeployment({ name: 'app', namespace: 'prod' })).resolves.toMatchObject({
      metadata: { name: 'app' },
    });
    expect(
      sim.requests
        .filter((r) => r.path.endsWith('/deployments/app'))
        .slice(-2)
        .map((r) => r.status),
    ).toEqual([503, 200]);
  });

  it('client-node Exec runs a command through onExec and gets stdout and the exit code', async () => {
    const seen: Array<{ pod: string; container: string; command: string[] }> = [];
    sim.onExec((req) => {
      seen.push({ pod: req.pod, container: req.container, command: req.command });
      return req.command.includes('down')
        ? { stdout: 'reverted 20240501_add_index\n', exitCode: 0 }
        : { stdout: '', stderr: 'no such migration\n', exitCode: 3 };
    });
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const pod = sim.pods('prod', 'app=api').find((p) => !p.metadata.deletionTimestamp)?.metadata.name as string;

    const exec = async (command: string[]) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on('data', (c: Buffer) => out.push(c));
      stderr.on('data', (c: Buffer) => err.push(c));
      const status = await new Promise<V1Status>((resolve, reject) => {
        new Exec(kc).exec('prod', pod, 'api', command, stdout, stderr, null, false, resolve).catch(reject);
      });
      return { status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    };

    const ok = await exec(['./migrate', 'down', '1']);
    expect(ok.status.status).toBe('Success');
    expect(ok.stdout).toBe('reverted 20240501_add_index\n');

    const failed = await exec(['./migrate', 'redo']);
    expect(failed.status.status).toBe('Failure');
    expect(failed.status.details?.causes?.[0]).toEqual({ reason: 'ExitCode', message: '3' });
    expect(failed.stderr).toBe('no such migration\n');
    expect(seen).toEqual([
      { pod, container: 'api', command: ['./migrate', 'down', '1'] },
      { pod, container: 'api', command: ['./migrate', 'redo'] },
    ]);
  });
});
