/**
 * What the plan says a Helm or Kubernetes rollback changes, on the Kubernetes simulator (proven with the real
 * kubectl and helm): the Helm values keys that differ (names only; the real `helm get values` agrees on the
 * names), and the pod template differences between the live and the restored ReplicaSet.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { readChanges } from '../../src/core/plan-changes.js';
import { helmDriver } from '../../src/drivers/helm/index.js';
import { helmTargetSchema } from '../../src/drivers/helm/target-schema.js';
import { valueDigests } from '../../src/drivers/helm/values-keys.js';
import { kubernetesDriver } from '../../src/drivers/kubernetes/index.js';
import { kubernetesTargetSchema } from '../../src/drivers/kubernetes/target-schema.js';
import { silentLogger } from '../../src/log.js';
import { kubeBinaries } from '../support/kube-binaries.js';
import { KubeSimulator } from '../support/kube-simulator/index.js';

const run = promisify(execFile);
const ctx = () => ({ log: silentLogger(), signal: AbortSignal.timeout(20_000), report: () => undefined });
const SECRETS = ['hunter2-old', 'hunter2-new', 's3cr3t-token'];

let sim: KubeSimulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it('Helm: names the values keys that differ between the live and the restored revision, never a value', async () => {
  const { helm } = await kubeBinaries();
  sim = await KubeSimulator.start({ readyDelayMs: 20 });
  const shared = { ingress: { enabled: true, hosts: ['api.example.com'] }, apiToken: 's3cr3t-token' };
  sim.seedHelmRelease({
    name: 'app',
    namespace: 'prod',
    chart: { name: 'api', version: '1.0.0', appVersion: '1.0.0' },
    revisions: [
      {
        image: 'registry/api:1.0.0',
        status: 'superseded',
        values: { ...shared, database: { password: 'hunter2-old' } },
      },
      {
        image: 'registry/api:1.1.0',
        status: 'deployed',
        replicas: 3,
        values: { ...shared, database: { password: 'hunter2-new', pool: 10 }, featureX: true },
      },
    ],
  });
  const kubeconfig = sim.writeKubeconfig();
  const driver = helmDriver.create(
    'api',
    helmTargetSchema.parse({ kind: 'helm', release: 'app', namespace: 'prod' }),
    { kubeconfig, helmBin: helm },
    silentLogger(),
  );
  const plan = await driver.plan(ctx(), {});
  expect([plan.from.id, plan.to.id]).toEqual(['2', '1']);
  const changes = await readChanges(driver, undefined, ctx(), plan);
  expect(changes).toEqual([
    { kind: 'values-keys', keys: ['database.password', 'database.pool', 'featureX', 'image', 'replicaCount'] },
  ]);
  for (const secret of SECRETS) expect(JSON.stringify({ plan, changes })).not.toContain(secret);

  // The keys are those of what the real helm calls the revision's values.
  dir = mkdtempSync(path.join(os.tmpdir(), 'rr-helm-values-'));
  const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, HELM_CACHE_HOME: path.join(dir, 'c') };
  const values = async (revision: number) =>
    JSON.parse(
      (await run(helm, ['get', 'values', 'app', '-n', 'prod', '--revision', String(revision), '-o', 'json'], { env }))
        .stdout,
    ) as unknown;
  expect(Object.keys(valueDigests(await values(2))).sort()).toEqual([
    'apiToken',
    'database.password',
    'database.pool',
    'featureX',
    'image',
    'ingress.enabled',
    'ingress.hosts[0]',
    'replicaCount',
  ]);
  expect(Object.keys(valueDigests(await values(1)))).not.toContain('featureX');
});

function web(container: object) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', ...container }] } },
    },
  };
}

it('Kubernetes: the pod template differences between the live and the restored ReplicaSet, env by name only', async () => {
  sim = await KubeSimulator.start({ readyDelayMs: 20 });
  sim.createNamespace('prod');
  sim.applyDeployment(
    'prod',
    web({
      image: 'registry/web:1.0.0',
      command: ['server', '--port=80'],
      env: [
        { name: 'DB_PASSWORD', value: 'hunter2-old' },
        { name: 'REGION', value: 'eu' },
        { name: 'LEGACY_MODE', value: 'on' },
      ],
      resources: { requests: { cpu: '100m', memory: '64Mi' } },
    }),
  );
  sim.applyDeployment(
    'prod',
    web({
      image: 'registry/web:1.1.0',
      command: ['server', '--port=8080'],
      env: [
        { name: 'DB_PASSWORD', value: 'hunter2-new' },
        { name: 'REGION', value: 'eu' },
        { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'tokens', key: 'api' } } },
      ],
      resources: { requests: { cpu: '200m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    }),
  );
  const driver = kubernetesDriver.create(
    'web',
    kubernetesTargetSchema.parse({ kind: 'kubernetes', namespace: 'prod', deployment: 'web' }),
    { kubeconfig: sim.writeKubeconfig() },
    silentLogger(),
  );
  const plan = await driver.plan(ctx(), {});
  expect([plan.from.label, plan.to.label]).toEqual(['revision 2', 'revision 1']);
  const changes = await readChanges(driver, undefined, ctx(), plan);
  expect(changes).toEqual([
    {
      kind: 'pod-template',
      differences: [
        { container: 'web', field: 'image', from: 'registry/web:1.1.0', to: 'registry/web:1.0.0' },
        {
          container: 'web',
          field: 'resources',
          from: 'requests cpu=200m memory=64Mi; limits memory=128Mi',
          to: 'requests cpu=100m memory=64Mi',
        },
        { container: 'web', field: 'command', from: 'server --port=8080', to: 'server --port=80' },
        { container: 'web', field: 'env', added: ['LEGACY_MODE'], removed: ['API_TOKEN'], changed: ['DB_PASSWORD'] },
      ],
    },
  ]);
  for (const secret of SECRETS) expect(JSON.stringify(changes)).not.toContain(secret);
});
