import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RollbackDriver } from '../../src/core/ports/driver.js';
import { helmDriver } from '../../src/drivers/helm/index.js';
import { helmTargetSchema } from '../../src/drivers/helm/target-schema.js';
import { KubeApi, loadKubeConfig } from '../../src/drivers/kube-access/kube-api.js';
import { execInPod } from '../../src/drivers/kube-access/pod-exec.js';
import { kubernetesDriver } from '../../src/drivers/kubernetes/index.js';
import { kubernetesTargetSchema } from '../../src/drivers/kubernetes/target-schema.js';
import { silentLogger } from '../../src/log.js';
import { context } from '../support/driver-conformance.js';
import { appRelease, webDeployment } from '../support/harness.js';
import { kubeBinaries } from '../support/kube-binaries.js';
import { type KubeRequestRecord, KubeSimulator } from '../support/kube-simulator/index.js';
import { grantsOf, readmeRbacRules } from '../support/readme-rbac.js';

/**
 * README's RBAC table ("Kubernetes (the Helm chart)", which the chart grants) against what the bot and helm really
 * ask the API server: a Helm rollback with the real helm, Kubernetes rollbacks of Deployments that Argo CD, a Flux
 * Kustomization and a Flux HelmRelease manage (suspended and resumed), and a migration exec, on the Kubernetes
 * simulator. Each request becomes the (API group, resource, verb) the API server's authorizer checks.
 */
let sim: KubeSimulator;
const AUTOMATED = { prune: true, selfHeal: true };

beforeAll(async () => {
  const { helm } = await kubeBinaries();
  sim = await KubeSimulator.start({ readyDelayMs: 20 });
  const kubeconfig = sim.writeKubeconfig();
  const log = silentLogger();

  sim.seedHelmRelease(appRelease(['superseded', 'deployed']));
  const api = helmDriver.create(
    'api',
    helmTargetSchema.parse({ kind: 'helm', release: 'app', namespace: 'prod', timeout: '30s' }),
    { kubeconfig, helmBin: helm },
    log,
  );
  await rollBack(api);

  sim.seedArgoApplication({ name: 'web', destination: { namespace: 'prod' }, automated: { ...AUTOMATED } });
  sim.seedFluxKustomization({ name: 'shop' });
  sim.seedFluxHelmRelease({ name: 'cart', targetNamespace: 'prod' });
  const owners = { web: 'Application', shop: 'Kustomization', cart: 'HelmRelease' } as const;
  for (const [name, kind] of Object.entries(owners)) {
    for (const image of ['1.0.0', '1.1.0'])
      sim.applyDeployment('prod', named(webDeployment(`registry/${image}`), name));
    sim.manageDeployment('prod', name, { kind, name });
    const driver = kubernetesDriver.create(
      name,
      kubernetesTargetSchema.parse({
        kind: 'kubernetes',
        namespace: 'prod',
        deployment: name,
        gitops: { suspend: true },
      }),
      { kubeconfig },
      log,
    );
    await rollBack(driver);
  }

  sim.applyDeployment('prod', named(webDeployment('registry/migrator:1.0.0'), 'migrator'));
  sim.onExec(() => ({ stdout: 'done\n', exitCode: 0 }));
  const kube = new KubeApi(loadKubeConfig(undefined, kubeconfig), { log });
  const command = ['./migrate', 'down', '1'];
  const migration = { namespace: 'prod', podSelector: 'app=migrator', container: 'migrator', command };
  expect(await execInPod(kube, { ...migration, timeoutMs: 10_000 }, context())).toMatchObject({ exitCode: 0 });
}, 60_000);

afterAll(async () => {
  await sim?.close();
});

/** Plan, suspend the GitOps controller when there is one, change, verify, resume: what a rollback does. */
async function rollBack(driver: RollbackDriver): Promise<void> {
  const plan = await driver.plan(context(), {});
  const suspension = await driver.suspendGitOps?.(context(), plan);
  await driver.execute(context(), plan);
  const checks = await driver.verify(context(), plan);
  expect(checks.every((c) => c.ok)).toBe(true);
  if (suspension) await driver.resumeGitOps?.(context(), suspension);
}

function named(deployment: ReturnType<typeof webDeployment>, name: string) {
  const labels = { app: name };
  return {
    ...deployment,
    metadata: { name, labels },
    spec: {
      ...deployment.spec,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name, image: deployment.spec.template.spec.containers[0]?.image }] },
      },
    },
  };
}

/** group|resource|verb as the API server authorizes a request; undefined for discovery, /version and /openapi. */
function grantOf(request: KubeRequestRecord): string | undefined {
  const match = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(.+)$/.exec(request.path);
  if (!match) return undefined;
  let parts = match[2]?.split('/') ?? [];
  if (parts[0] === 'namespaces' && parts.length >= 3) parts = parts.slice(2);
  const [resource, name, subresource] = parts;
  const watch = request.query.watch === 'true' || request.query.watch === '1';
  const verbs: Record<string, string> = {
    GET: watch ? 'watch' : name ? 'get' : 'list',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name ? 'delete' : 'deletecollection',
  };
  return `${match[1] ?? ''}|${subresource ? `${resource}/${subresource}` : resource}|${verbs[request.method]}`;
}

/** README's table, as group|resource|verb. */
async function readmeGrants(): Promise<string[]> {
  return grantsOf(await readmeRbacRules());
}

describe("README's RBAC table", () => {
  it('grants every request the bot and helm make, but for the kinds the release renders (rbac.extraRules)', async () => {
    const granted = new Set(await readmeGrants());
    // What the README says helm rollback needs on the kinds a release's chart renders: here, its Deployment.
    for (const verb of ['get', 'list', 'watch', 'create', 'patch', 'delete']) granted.add(`apps|deployments|${verb}`);
    const asked = [...new Set(sim.requests.map(grantOf).filter((g): g is string => g !== undefined))].sort();
    expect(asked.filter((grant) => !granted.has(grant))).toEqual([]);
    // The flows above really went through helm, the Deployments, the three GitOps kinds and exec.
    expect(asked).toEqual(
      expect.arrayContaining([
        '|secrets|create',
        '|secrets|update',
        '|pods/exec|get',
        'argoproj.io|applications|patch',
        'kustomize.toolkit.fluxcd.io|kustomizations|patch',
        'helm.toolkit.fluxcd.io|helmreleases|patch',
      ]),
    );
  });

  it('lists nothing the bot and helm never ask for', async () => {
    const rows = new Set((await readmeGrants()).map((g) => g.split('|').slice(0, 2).join('|')));
    const asked = new Set(sim.requests.map((r) => grantOf(r)?.split('|').slice(0, 2).join('|')));
    expect([...rows].filter((row) => !asked.has(row))).toEqual([]);
  });
});
