/**
 * The simulator's GitOps side, proven with the real kubectl (test/support/kube-binaries.ts): Argo CD's
 * Application and Flux's Kustomization and HelmRelease served as CRDs (discovery, Tables from the CRDs'
 * printer columns, JSON, merge and JSON patches, strategic merge refused with 415, schema validation,
 * watch), and the reconciler that puts a managed Deployment back to what git says unless sync is off or
 * the Flux object is suspended. Waits are on conditions, reconciler passes included, never on the clock.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeBinaries, kubeBinaries } from '../support/kube-binaries.js';
import { type KubeObject, KubeSimulator } from '../support/kube-simulator/index.js';
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

/** A long-running kubectl (a watch): its stdout lines as they come, and a way to stop it. */
function follow(file: string, args: string[], env: NodeJS.ProcessEnv): { lines: string[]; stop: () => void } {
  const child: ChildProcess = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.trim() !== ''));
  });
  return { lines, stop: () => child.kill() };
}

function deployment(name: string, image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
    },
  };
}

let bins: KubeBinaries;
const dirs: string[] = [];
const sims: KubeSimulator[] = [];

beforeAll(async () => {
  bins = await kubeBinaries();
});

afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startSimulator(): Promise<{
  sim: KubeSimulator;
  env: NodeJS.ProcessEnv;
  kubectl: (...args: string[]) => Promise<RunResult>;
}> {
  const sim = await KubeSimulator.start({ readyDelayMs: 100, gitOpsIntervalMs: 150 });
  sims.push(sim);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-gitops-test-'));
  dirs.push(dir);
  const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: sim.writeKubeconfig(dir) };
  return { sim, env, kubectl: (...args: string[]) => run(bins.kubectl, args, env) };
}

const image = (sim: KubeSimulator, name: string): string | undefined =>
  sim.deployment('prod', name)?.spec.template.spec.containers[0].image;

/** Managers whose entry in managedFields owns the container's image. */
const imageOwners = (sim: KubeSimulator, name: string): string[] =>
  (sim.deployment('prod', name)?.metadata.managedFields ?? [])
    .filter(
      (e: KubeObject) =>
        e.fieldsV1?.['f:spec']?.['f:template']?.['f:spec']?.['f:containers']?.[`k:{"name":"${name}"}`]?.['f:image'],
    )
    .map((e: KubeObject) => `${e.manager} ${e.operation}`);

/** Lets the reconciler run `n` more passes: what it would have changed by then, it has. */
async function passes(sim: KubeSimulator, n: number): Promise<void> {
  const target = sim.gitOpsPasses + n;
  await waitUntil(`${n} GitOps passes`, () => sim.gitOpsPasses >= target);
}

describe('discovery of the GitOps CRDs', () => {
  it('a cluster without Argo CD or Flux has no such resource; seeding installs the CRDs and kubectl finds them', async () => {
    const { sim, kubectl } = await startSimulator();
    const before = await kubectl('get', 'applications.argoproj.io', '-n', 'argocd');
    expect(before.code).not.toBe(0);
    expect(before.stderr).toContain('the server doesn\'t have a resource type "applications"');

    sim.seedArgoApplication({ name: 'web', destination: { namespace: 'prod' } });
    sim.seedFluxKustomization({ name: 'apps' });
    // Same kubectl, same discovery cache: a resource it could not map made it invalidate the cache, as after
    // a CRD install on a real cluster.
    const resources = await kubectl('api-resources', '--api-group=argoproj.io');
    expect(resources.code, resources.stderr).toBe(0);
    expect(resources.stdout.trim().split('\n').slice(1)).toEqual([
      expect.stringMatching(/^applications\s+app,apps\s+argoproj\.io\/v1alpha1\s+true\s+Application$/),
    ]);
    const flux = await kubectl('api-resources', '--categories=fluxcd', '-o', 'name');
    expect(flux.code, flux.stderr).toBe(0);
    expect(flux.stdout.trim().split('\n').sort()).toEqual([
      'helmreleases.helm.toolkit.fluxcd.io',
      'kustomizations.kustomize.toolkit.fluxcd.io',
    ]);
    const versions = await kubectl('api-versions');
    expect(versions.stdout).toContain('argoproj.io/v1alpha1\n');
    expect(versions.stdout).toContain('kustomize.toolkit.fluxcd.io/v1\n');
    expect(versions.stdout).toContain('helm.toolkit.fluxcd.io/v2\n');
  });
});

describe('kubectl and the reconciler', () => {
  let sim: KubeSimulator;
  let env: NodeJS.ProcessEnv;
  let kubectl: (...args: string[]) => Promise<RunResult>;

  beforeAll(async () => {
    ({ sim, env, kubectl } = await startSimulator());
    sim.createNamespace('prod');
    for (const [name, img] of [
      ['web', 'nginx:1.25'],
      ['shop', 'shop:3.1'],
      ['admin', 'admin:7'],
      ['api', 'api:2.0'],
      ['chart', 'chart:1.0'],
    ] as const) {
      sim.applyDeployment('prod', deployment(name, img));
    }
    sim.seedArgoApplication({
      name: 'web',
      destination: { namespace: 'prod' },
      automated: { prune: true, selfHeal: true },
    });
    sim.manageDeployment('prod', 'web', { kind: 'Application', name: 'web' });
    sim.seedArgoApplication({ name: 'shop', destination: { namespace: 'prod' }, automated: { prune: true } });
    sim.manageDeployment('prod', 'shop', { kind: 'Application', name: 'shop' });
    sim.seedArgoApplication({ name: 'admin', destination: { namespace: 'prod' } });
    sim.manageDeployment('prod', 'admin', { kind: 'Application', name: 'admin' });
    sim.seedFluxKustomization({ name: 'api', interval: '5m' });
    sim.manageDeployment('prod', 'api', { kind: 'Kustomization', name: 'api' });
    sim.seedFluxHelmRelease({ name: 'chart', chart: { chart: 'chart', version: '1.0.0' } });
    sim.manageDeployment('prod', 'chart', { kind: 'HelmRelease', name: 'chart' });
  });

  it('kubectl get applications.argoproj.io -o json shows the Applications as Argo CD writes them', async () => {
    const table = await kubectl('get', 'applications.argoproj.io', '-n', 'argocd');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^NAME\s+SYNC STATUS\s+HEALTH STATUS$/),
      expect.stringMatching(/^admin\s+Synced\s+Healthy$/),
      expect.stringMatching(/^shop\s+Synced\s+Healthy$/),
      expect.stringMatching(/^web\s+Synced\s+Healthy$/),
    ]);

    const json = await kubectl('get', 'applications.argoproj.io', '-n', 'argocd', '-o', 'json');
    expect(json.code, json.stderr).toBe(0);
    const items: KubeObject[] = JSON.parse(json.stdout).items;
    const web = items.find((a) => a.metadata.name === 'web') as KubeObject;
    expect(web).toMatchObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { namespace: 'argocd' },
      spec: {
        project: 'default',
        destination: { server: 'https://kubernetes.default.svc', namespace: 'prod' },
        source: { targetRevision: 'HEAD', path: 'web' },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
      status: {
        sync: { status: 'Synced', revision: expect.stringMatching(/^[0-9a-f]{40}$/) },
        health: { status: 'Healthy' },
        resources: [{ group: 'apps', kind: 'Deployment', namespace: 'prod', name: 'web', status: 'Synced' }],
      },
    });
    expect(items.find((a) => a.metadata.name === 'admin')?.spec.syncPolicy).toBeUndefined();
    // Argo CD tracks what it manages by annotation.
    expect(sim.deployment('prod', 'web')?.metadata.annotations['argocd.argoproj.io/tracking-id']).toBe(
      'web:apps/Deployment:prod/web',
    );
  });

  it('kubectl get kustomizations and helmreleases print the Flux CRDs’ columns', async () => {
    const ks = await kubectl('get', 'kustomizations.kustomize.toolkit.fluxcd.io', '-n', 'flux-system');
    expect(ks.code, ks.stderr).toBe(0);
    expect(ks.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^NAME\s+AGE\s+READY\s+STATUS$/),
      expect.stringMatching(/^api\s+\d+s\s+True\s+Applied revision: main@sha1:[0-9a-f]{40}$/),
    ]);
    const hr = await kubectl('get', 'helmreleases.helm.toolkit.fluxcd.io', '-n', 'flux-system');
    expect(hr.code, hr.stderr).toBe(0);
    expect(hr.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^NAME\s+AGE\s+READY\s+STATUS$/),
      expect.stringMatching(
        /^chart\s+\d+s\s+True\s+Helm install succeeded for release prod\/chart\.v1 with chart chart@1\.0\.0$/,
      ),
    ]);
    const json = await kubectl('get', 'kustomization', 'api', '-n', 'flux-system', '-o', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      spec: { interval: '5m', prune: true, force: false, sourceRef: { kind: 'GitRepository', name: 'flux-system' } },
      status: { observedGeneration: 1, inventory: { entries: [{ id: 'prod_api_apps_Deployment', v: 'v1' }] } },
    });
    expect(sim.deployment('prod', 'api')?.metadata.labels).toMatchObject({
      'kustomize.toolkit.fluxcd.io/name': 'api',
      'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
    });
    expect(sim.deployment('prod', 'chart')?.metadata.labels).toMatchObject({
      'helm.toolkit.fluxcd.io/name': 'chart',
      'helm.toolkit.fluxcd.io/namespace': 'flux-system',
    });
  });

  it('kubectl patch with the default strategic type is refused with 415, as for any custom resource', async () => {
    const before = sim.customResource('applications', 'argocd', 'web')?.metadata.resourceVersion;
    const from = sim.requests.length;
    const patch = await kubectl('patch', 'application', 'web', '-n', 'argocd', '-p', '{"spec":{"syncPolicy":null}}');
    expect(patch.code).not.toBe(0);
    expect(patch.stderr.trim()).toBe(
      'error: application/strategic-merge-patch+json is not supported by argoproj.io/v1alpha1, Kind=Application: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
    expect(
      sim.requests
        .slice(from)
        .filter((r) => r.method === 'PATCH')
        .map((r) => [r.contentType, r.status]),
    ).toEqual([['application/strategic-merge-patch+json', 415]]);
    expect(sim.customResource('applications', 'argocd', 'web')?.metadata.resourceVersion).toBe(before);
  });

  it('Argo CD self-heal: kubectl set image is put back by argocd-controller, seen by a watch, and rollout history goes on', async () => {
    const watch = follow(
      bins.kubectl,
      [
        'get',
        'deployment',
        'web',
        '-n',
        'prod',
        '--watch',
        '--output-watch-events',
        '-o',
        'jsonpath={.type} {.object.spec.template.spec.containers[0].image}{"\\n"}',
      ],
      env,
    );
    try {
      await waitUntil('the watch to list the Deployment', () => watch.lines.length > 0);
      const set = await kubectl('set', 'image', 'deployment/web', 'web=nginx:bad', '-n', 'prod');
      expect(set.code, set.stderr).toBe(0);
      await waitUntil(
        'Argo CD to put nginx:1.25 back',
        () => image(sim, 'web') === 'nginx:1.25' && watch.lines.at(-1) === 'MODIFIED nginx:1.25',
      );
      // The images the watch saw, each run of the same image once: git's, the client's, git's again.
      const images = watch.lines.map((l) => l.split(' ')[1]).filter((img, n, all) => n === 0 || img !== all[n - 1]);
      expect(images).toEqual(['nginx:1.25', 'nginx:bad', 'nginx:1.25']);
      expect(watch.lines[0]).toBe('ADDED nginx:1.25');
    } finally {
      watch.stop();
    }
    expect(imageOwners(sim, 'web')).toEqual(['argocd-controller Update']);

    const status = await kubectl('rollout', 'status', 'deployment/web', '-n', 'prod', '--timeout=30s');
    expect(status.code, status.stderr).toBe(0);
    const history = await kubectl('rollout', 'history', 'deployment/web', '-n', 'prod');
    expect(history.code, history.stderr).toBe(0);
    // 1 (git's), 2 (the client's image), 3 (the revert, on revision 1's ReplicaSet).
    expect(
      history.stdout
        .trim()
        .split('\n')
        .slice(2)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['2', '3']);
    await waitUntil('the Application to be Synced and Healthy again', () => {
      const s = sim.customResource('applications', 'argocd', 'web')?.status;
      return s?.sync.status === 'Synced' && s?.health.status === 'Healthy' && s.operationState?.phase === 'Succeeded';
    });
  });

  it('with automated sync removed by kubectl patch --type merge, a change stays and the Application is OutOfSync; a JSON patch turns self-heal back on', async () => {
    const before = sim.customResource('applications', 'argocd', 'web') as KubeObject;
    const off = await kubectl(
      'patch',
      'application',
      'web',
      '-n',
      'argocd',
      '--type',
      'merge',
      '-p',
      '{"spec":{"syncPolicy":null}}',
    );
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout.trim()).toBe('application.argoproj.io/web patched');
    const after = sim.customResource('applications', 'argocd', 'web') as KubeObject;
    expect(after.spec.syncPolicy).toBeUndefined();
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation);

    expect((await kubectl('set', 'image', 'deployment/web', 'web=nginx:1.26', '-n', 'prod')).code).toBe(0);
    await passes(sim, 3);
    expect(image(sim, 'web')).toBe('nginx:1.26');
    expect(imageOwners(sim, 'web')).toEqual(['kubectl-set Update']);
    const sync = await kubectl('get', 'application', 'web', '-n', 'argocd', '-o', 'jsonpath={.status.sync.status}');
    expect(sync.stdout).toBe('OutOfSync');

    const on = await kubectl(
      'patch',
      'application',
      'web',
      '-n',
      'argocd',
      '--type',
      'json',
      '-p',
      '[{"op":"add","path":"/spec/syncPolicy","value":{"automated":{"selfHeal":true}}}]',
    );
    expect(on.code, on.stderr).toBe(0);
    await waitUntil('self-heal to put nginx:1.25 back', () => image(sim, 'web') === 'nginx:1.25');
  });

  it('automated sync without selfHeal leaves drift alone but deploys a new commit; without automated sync neither', async () => {
    expect((await kubectl('set', 'image', 'deployment/shop', 'shop=shop:hotfix', '-n', 'prod')).code).toBe(0);
    await passes(sim, 3);
    expect(image(sim, 'shop')).toBe('shop:hotfix');
    expect(sim.customResource('applications', 'argocd', 'shop')?.status.sync.status).toBe('OutOfSync');

    const commit = sim.gitSays('prod', 'shop', { image: 'shop:3.2' });
    await waitUntil('Argo CD to sync the new commit', () => image(sim, 'shop') === 'shop:3.2');
    await waitUntil('the Application to be Synced at the commit', () => {
      const s = sim.customResource('applications', 'argocd', 'shop')?.status;
      return s?.sync.status === 'Synced' && s.sync.revision === commit ? s : undefined;
    });
    const history = sim.customResource('applications', 'argocd', 'shop')?.status.history as KubeObject[];
    expect(history.map((h) => [h.id, h.revision === commit])).toEqual([
      [0, false],
      [1, true],
    ]);

    sim.gitSays('prod', 'admin', { image: 'admin:8' });
    await passes(sim, 3);
    expect(image(sim, 'admin')).toBe('admin:7');
    const admin = await kubectl('get', 'application', 'admin', '-n', 'argocd', '-o', 'jsonpath={.status.sync.status}');
    expect(admin.stdout).toBe('OutOfSync');
  });

  it('Flux Kustomization: drift is applied away by kustomize-controller; suspended (as flux suspend does) it stays; resumed it goes', async () => {
    expect((await kubectl('set', 'image', 'deployment/api', 'api=api:debug', '-n', 'prod')).code).toBe(0);
    await waitUntil('kustomize-controller to put api:2.0 back', () => image(sim, 'api') === 'api:2.0');
    expect(imageOwners(sim, 'api')).toEqual(['kustomize-controller Apply']);

    const watch = follow(
      bins.kubectl,
      [
        'get',
        'kustomizations',
        '-n',
        'flux-system',
        '--watch',
        '--output-watch-events',
        '-o',
        'jsonpath={.type} {.object.spec.suspend}{"\\n"}',
      ],
      env,
    );
    try {
      await waitUntil('the watch to list the Kustomization', () => watch.lines.length > 0);
      const suspend = await kubectl(
        'patch',
        'kustomization',
        'api',
        '-n',
        'flux-system',
        '--type',
        'merge',
        '-p',
        '{"spec":{"suspend":true}}',
      );
      expect(suspend.code, suspend.stderr).toBe(0);
      expect(suspend.stdout.trim()).toBe('kustomization.kustomize.toolkit.fluxcd.io/api patched');
      await waitUntil('the watch to see the suspension', () => watch.lines.includes('MODIFIED true'));
    } finally {
      watch.stop();
    }

    expect((await kubectl('set', 'image', 'deployment/api', 'api=api:debug', '-n', 'prod')).code).toBe(0);
    await passes(sim, 3);
    expect(image(sim, 'api')).toBe('api:debug');
    // Suspended, the controller writes nothing: the last status stands.
    const ready = await kubectl(
      'get',
      'ks',
      'api',
      '-n',
      'flux-system',
      '-o',
      'jsonpath={.status.conditions[0].status}',
    );
    expect(ready.stdout).toBe('True');

    const resume = await kubectl(
      'patch',
      'kustomization',
      'api',
      '-n',
      'flux-system',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/suspend","value":false}]',
    );
    expect(resume.code, resume.stderr).toBe(0);
    await waitUntil('kustomize-controller to put api:2.0 back once resumed', () => image(sim, 'api') === 'api:2.0');
  });

  it('Flux HelmRelease: drift corrected by helm-controller; not while suspended; not with drift detection disabled, though a new chart version still upgrades', async () => {
    expect((await kubectl('set', 'image', 'deployment/chart', 'chart=chart:debug', '-n', 'prod')).code).toBe(0);
    await waitUntil('helm-controller to put chart:1.0 back', () => image(sim, 'chart') === 'chart:1.0');
    expect(imageOwners(sim, 'chart')).toEqual(['helm-controller Update']);

    const suspend = await kubectl(
      'patch',
      'helmrelease',
      'chart',
      '-n',
      'flux-system',
      '--type',
      'merge',
      '-p',
      '{"spec":{"suspend":true}}',
    );
    expect(suspend.code, suspend.stderr).toBe(0);
    expect((await kubectl('set', 'image', 'deployment/chart', 'chart=chart:debug', '-n', 'prod')).code).toBe(0);
    await passes(sim, 3);
    expect(image(sim, 'chart')).toBe('chart:debug');

    const resume = await kubectl(
      'patch',
      'hr',
      'chart',
      '-n',
      'flux-system',
      '--type',
      'merge',
      '-p',
      '{"spec":{"suspend":false,"driftDetection":{"mode":"disabled"}}}',
    );
    expect(resume.code, resume.stderr).toBe(0);
    await passes(sim, 3);
    expect(image(sim, 'chart')).toBe('chart:debug');

    sim.gitSays('prod', 'chart', { image: 'chart:1.1', revision: '1.1.0' });
    await waitUntil('helm-controller to upgrade to the new chart', () => image(sim, 'chart') === 'chart:1.1');
    await waitUntil('the HelmRelease to report the upgrade', () =>
      sim
        .customResource('helmreleases', 'flux-system', 'chart')
        ?.status.conditions?.find((c: KubeObject) => c.type === 'Ready' && c.reason === 'UpgradeSucceeded')
        ?.message.includes('release prod/chart.v2 with chart chart@1.1.0'),
    );
  });

  it('the API server validates custom resources against their schema, with its own messages', async () => {
    const notBool = await kubectl(
      'patch',
      'kustomization',
      'api',
      '-n',
      'flux-system',
      '--type',
      'merge',
      '-p',
      '{"spec":{"suspend":"yes"}}',
    );
    expect(notBool.code).not.toBe(0);
    expect(notBool.stderr.trim()).toBe(
      'The Kustomization "api" is invalid: spec.suspend: Invalid value: "string": spec.suspend in body must be of type boolean: "string"',
    );
    const badInterval = await kubectl(
      'patch',
      'helmrelease',
      'chart',
      '-n',
      'flux-system',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/interval","value":"5 minutes"}]',
    );
    expect(badInterval.code).not.toBe(0);
    expect(badInterval.stderr).toContain(
      `spec.interval: Invalid value: "5 minutes": spec.interval in body should match '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$'`,
    );
    expect(sim.customResource('kustomizations', 'flux-system', 'api')?.spec.suspend).toBe(false);
  });

  it('kubectl rollout undo of a GitOps-managed Deployment is undone in turn by the controller; rollout history keeps counting', async () => {
    const revision = () =>
      Number(sim.deployment('prod', 'api')?.metadata.annotations['deployment.kubernetes.io/revision']);
    const before = revision();
    const undo = await kubectl('rollout', 'undo', 'deployment/api', '-n', 'prod');
    expect(undo.code, undo.stderr).toBe(0);
    await waitUntil('the undo to land', () => revision() > before);
    await waitUntil(
      "kustomize-controller to put git's template back",
      () => image(sim, 'api') === 'api:2.0' && revision() >= before + 2,
    );
    const status = await kubectl('rollout', 'status', 'deployment/api', '-n', 'prod', '--timeout=30s');
    expect(status.code, status.stderr).toBe(0);
    const history = await kubectl('rollout', 'history', 'deployment/api', '-n', 'prod');
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout.trim().split('\n').at(-1)?.split(/\s+/)[0]).toBe(String(revision()));
  });

  it('answered every kubectl request without a server error', () => {
    expect(sim.requests.filter((r) => r.status === 0 || r.status >= 500)).toEqual([]);
  });
});

describe('kubectl apply and replace on custom resources', () => {
  it('client-side apply (a merge patch), server-side apply and replace (PUT, with its conflict on a stale resourceVersion) work, and managedFields follow', async () => {
    const { sim, kubectl } = await startSimulator();
    sim.seedFluxKustomization({ name: 'apps' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-gitops-manifests-'));
    dirs.push(dir);
    const manifest = (interval: string) =>
      JSON.stringify({
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        metadata: { name: 'infra', namespace: 'flux-system' },
        spec: { interval, prune: true, path: './infra', sourceRef: { kind: 'GitRepository', name: 'flux-system' } },
      });
    const file = path.join(dir, 'infra.json');
    writeFileSync(file, manifest('1m'));
    const from = sim.requests.length;
    const created = await kubectl('apply', '-f', file);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.trim()).toBe('kustomization.kustomize.toolkit.fluxcd.io/infra created');
    writeFileSync(file, manifest('2m'));
    const configured = await kubectl('apply', '-f', file);
    expect(configured.code, configured.stderr).toBe(0);
    expect(configured.stdout.trim()).toBe('kustomization.kustomize.toolkit.fluxcd.io/infra configured');
    // kubectl knows no patch strategy for a custom resource: its client-side apply sends a merge patch.
    expect(
      sim.requests
        .slice(from)
        .filter((r) => r.method === 'PATCH')
        .map((r) => [r.contentType, r.query.fieldManager, r.status]),
    ).toEqual([['application/merge-patch+json', 'kubectl-client-side-apply', 200]]);
    const infra = sim.customResource('kustomizations', 'flux-system', 'infra') as KubeObject;
    expect(infra.spec.interval).toBe('2m');
    expect(infra.metadata.generation).toBe(2);
    // No controller has seen it: the status is the CRD schema's default.
    expect(infra.status).toEqual({ observedGeneration: -1 });

    writeFileSync(file, manifest('3m'));
    const ssa = await kubectl('apply', '--server-side', '-f', file);
    expect(ssa.code, ssa.stderr).toBe(0);
    expect(ssa.stdout.trim()).toBe('kustomization.kustomize.toolkit.fluxcd.io/infra serverside-applied');
    const managers = (sim.customResource('kustomizations', 'flux-system', 'infra')?.metadata.managedFields ?? []).map(
      (e: KubeObject) => `${e.manager} ${e.operation}`,
    );
    expect(managers).toContain('kubectl Apply');
    expect(sim.customResource('kustomizations', 'flux-system', 'infra')?.spec.interval).toBe('3m');

    const read = await kubectl('get', 'kustomization', 'apps', '-n', 'flux-system', '-o', 'json');
    const apps = JSON.parse(read.stdout);
    apps.spec.interval = '7m';
    writeFileSync(path.join(dir, 'apps.json'), JSON.stringify(apps));
    const replaced = await kubectl('replace', '-f', path.join(dir, 'apps.json'));
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout.trim()).toBe('kustomization.kustomize.toolkit.fluxcd.io/apps replaced');
    expect(sim.customResource('kustomizations', 'flux-system', 'apps')?.spec.interval).toBe('7m');
    // The status subresource: a PUT on the main endpoint leaves the controller's status alone.
    expect(sim.customResource('kustomizations', 'flux-system', 'apps')?.status.lastAppliedRevision).toMatch(
      /^main@sha1:/,
    );
    const stale = await kubectl('replace', '-f', path.join(dir, 'apps.json'));
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain(
      'Operation cannot be fulfilled on kustomizations.kustomize.toolkit.fluxcd.io "apps": the object has been modified; please apply your changes to the latest version and try again',
    );
  });
});
