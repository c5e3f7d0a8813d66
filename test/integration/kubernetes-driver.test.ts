import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { RollbackError } from '../../src/core/errors.js';
import type { StepReport } from '../../src/core/types.js';
import { kubernetesDriver } from '../../src/drivers/kubernetes/index.js';
import { kubernetesTargetSchema } from '../../src/drivers/kubernetes/target-schema.js';
import { silentLogger } from '../../src/log.js';
import { context, driverConformance } from '../support/driver-conformance.js';
import { webDeployment } from '../support/harness.js';
import { kubeBinaries } from '../support/kube-binaries.js';
import { type KubeObject, KubeSimulator } from '../support/kube-simulator/index.js';

driverConformance('kubernetes', async () => {
  const sim = await KubeSimulator.start({ readyDelayMs: 20 });
  sim.createNamespace('prod');
  sim.applyDeployment('prod', webDeployment('registry/web:1.0.0'));
  sim.applyDeployment('prod', webDeployment('registry/web:1.1.0'));
  const kubeconfig = sim.writeKubeconfig();
  const build = (settings: object = {}, file = kubeconfig) =>
    kubernetesDriver.create(
      'web',
      kubernetesTargetSchema.parse({
        kind: 'kubernetes',
        namespace: 'prod',
        deployment: 'web',
        timeout: '20s',
        ...settings,
      }),
      { kubeconfig: file },
      silentLogger(),
    );
  const patches = () => sim.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/web')).length;
  return {
    driver: build(),
    rebuilt: () => build(),
    others: () => [
      build({ namespace: 'staging' }),
      build({ deployment: 'api' }),
      // The same context name, "sim", in another kubeconfig naming another cluster.
      build({ context: 'sim' }, sim.writeKubeconfig(undefined, { server: 'https://10.0.0.1:6443' })),
    ],
    async deployElsewhere() {
      sim.applyDeployment('prod', webDeployment('registry/web:1.2.0'));
    },
    changes: patches,
    unknownVersion: '99',
    close: () => sim.close(),
  };
});

describe('kubernetes driver identity', () => {
  it("is kubernetes:<API server URL>/<namespace>/deployment/<name>: the cluster the context points at, not the context's name", async () => {
    const sim = await KubeSimulator.start();
    try {
      const build = (file: string, settings: object = {}) =>
        kubernetesDriver.create(
          'web',
          kubernetesTargetSchema.parse({
            kind: 'kubernetes',
            namespace: 'prod',
            deployment: 'web',
            ...settings,
          }),
          { kubeconfig: file },
          silentLogger(),
        );
      const prod = build(sim.writeKubeconfig());
      expect(prod.identity).toBe(`kubernetes:${sim.url}/prod/deployment/web`);
      // Another name for the same cluster, and its URL written differently: the same resource.
      expect(build(sim.writeKubeconfig(undefined, { context: 'blue' }), { context: 'blue' }).identity).toBe(
        prod.identity,
      );
      expect(build(sim.writeKubeconfig(undefined, { server: `${sim.url.toUpperCase()}/` })).identity).toBe(
        prod.identity,
      );
      expect(build(sim.writeKubeconfig(undefined, { server: 'https://k8s.example.com:443' })).identity).toBe(
        'kubernetes:https://k8s.example.com/prod/deployment/web',
      );
      // The same context name on another cluster: another resource.
      const elsewhere = build(sim.writeKubeconfig(undefined, { server: 'https://10.0.0.1:6443' }), { context: 'sim' });
      expect(elsewhere.identity).toBe('kubernetes:https://10.0.0.1:6443/prod/deployment/web');
    } finally {
      await sim.close();
    }
  });
});

describe('kubernetes driver: the guard pins the Deployment as the decisive read saw it', () => {
  const sims: KubeSimulator[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function setup() {
    const sim = await KubeSimulator.start({ readyDelayMs: 20 });
    sims.push(sim);
    sim.createNamespace('prod');
    sim.applyDeployment('prod', webDeployment('registry/web:1.0.0'));
    sim.applyDeployment('prod', webDeployment('registry/web:1.1.0'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-driver-test-'));
    dirs.push(dir);
    const kubeconfig = sim.writeKubeconfig(dir);
    const target = kubernetesTargetSchema.parse({
      kind: 'kubernetes',
      namespace: 'prod',
      deployment: 'web',
      timeout: '20s',
    });
    const driver = kubernetesDriver.create('web', target, { kubeconfig }, silentLogger());
    const patchPath = '/apis/apps/v1/namespaces/prod/deployments/web';
    const patches = () => sim.requests.filter((r) => r.method === 'PATCH' && r.path === patchPath);
    const image = () => sim.deployment('prod', 'web')?.spec.template.spec.containers[0].image as string;
    const revision = () =>
      sim.deployment('prod', 'web')?.metadata.annotations['deployment.kubernetes.io/revision'] as string;
    const hotfix = (d: KubeObject) => {
      d.spec.template.spec.containers[0].image = 'registry/web:1.1.1-hotfix';
    };
    return { sim, dir, kubeconfig, driver, patchPath, patches, image, revision, hotfix };
  }

  it("the decisive read carries the Deployment's resourceVersion as the precondition", async () => {
    const { sim, driver } = await setup();
    const decided = await driver.live(context());
    expect(decided.precondition).toBe(sim.deployment('prod', 'web')?.metadata.resourceVersion);
    expect(decided.precondition).toMatch(/^\d+$/);
  });

  it('a pod-template edit the controller has not yet observed, made after the decisive read, stops the rollback: PLAN_STALE, nothing changed', async () => {
    const { sim, dir, kubeconfig, driver, patches, image, revision } = await setup();
    const { kubectl } = await kubeBinaries();
    const plan = await driver.plan(context(), {});
    const decided = await driver.live(context());
    expect(decided.current.id).toBe(plan.from.id);

    // `kubectl set image` while the controller has not acted on it yet: the template changed, the
    // revision annotation (and so every revision-based check) did not.
    sim.stallControllers();
    const set = await promisify(execFile)(
      kubectl,
      ['set', 'image', 'deployment/web', 'web=registry/web:1.1.1-hotfix', '-n', 'prod'],
      { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig } },
    );
    expect(set.stdout.trim()).toBe('deployment.apps/web image updated');
    expect(revision()).toBe('2');
    expect(image()).toBe('registry/web:1.1.1-hotfix');
    const changesBefore = sim.deploymentTemplateChanges('prod', 'web');
    const patchesBefore = patches().length;

    const error = await driver.execute(context(), plan, decided).then(
      () => undefined,
      (e: unknown) => e,
    );
    sim.resumeControllers();

    expect(error).toBeInstanceOf(RollbackError);
    expect((error as RollbackError).code).toBe('PLAN_STALE');
    expect((error as RollbackError).message).toMatch(
      /^deployment\/web changed since the check that decided the rollback: its revision is still 2, but it was written to .* Nothing was changed\.$/,
    );
    expect((error as RollbackError).hint).toContain('plan again');
    // The API server refused the one PATCH sent (its resourceVersion test): the edit stands.
    expect(
      patches()
        .slice(patchesBefore)
        .map((r) => r.status),
    ).toEqual([422]);
    expect(image()).toBe('registry/web:1.1.1-hotfix');
    expect(sim.deploymentTemplateChanges('prod', 'web')).toBe(changesBefore);
  });

  it('after a 503 that left the patch unapplied, a template edit seen on the read-back stops it: nothing more is sent', async () => {
    const { sim, driver, patchPath, patches, image, hotfix } = await setup();
    const plan = await driver.plan(context(), {});
    const decided = await driver.live(context());
    sim.stallControllers();
    // The edit lands while the PATCH is being answered 503 (not applied), before the driver reads back.
    sim.injectFaults({
      method: 'PATCH',
      path: patchPath,
      status: 503,
      count: 1,
      match: () => {
        sim.editDeployment('prod', 'web', hotfix);
        return true;
      },
    });

    const error = await driver.execute(context(), plan, decided).then(
      () => undefined,
      (e: unknown) => e,
    );
    sim.resumeControllers();

    expect((error as RollbackError).code).toBe('PLAN_STALE');
    expect((error as RollbackError).message).toMatch(
      /changed while the rollback was being sent: it was written to since the check that decided the rollback .* Nothing more was sent\.$/,
    );
    expect(patches().map((r) => r.status)).toEqual([503]);
    expect(image()).toBe('registry/web:1.1.1-hotfix');
  });

  it('a 503 before the patch applied: read back unchanged (same resourceVersion), sent again, applied once', async () => {
    const { sim, driver, patchPath, patches, image } = await setup();
    const plan = await driver.plan(context(), {});
    const decided = await driver.live(context());
    sim.injectFaults({ method: 'PATCH', path: patchPath, status: 503, count: 1 });
    const changesBefore = sim.deploymentTemplateChanges('prod', 'web');
    await driver.execute(context(), plan, decided);
    expect(patches().map((r) => r.status)).toEqual([503, 200]);
    expect(image()).toBe('registry/web:1.0.0');
    expect(sim.deploymentTemplateChanges('prod', 'web')).toBe(changesBefore + 1);
  });

  it('a 503 after the patch applied: the read-back recognises the restored template despite the new resourceVersion, and does not send again', async () => {
    const { sim, driver, patchPath, patches, image } = await setup();
    const plan = await driver.plan(context(), {});
    const decided = await driver.live(context());
    sim.injectFaults({ method: 'PATCH', path: patchPath, status: 503, phase: 'after', count: 1 });
    const changesBefore = sim.deploymentTemplateChanges('prod', 'web');
    const steps: StepReport[] = [];
    await driver.execute(context(steps), plan, decided);
    expect(patches().map((r) => r.status)).toEqual([503]);
    expect(steps.map((s) => s.text)).toContainEqual(
      expect.stringContaining('already has the restored pod template: it was applied, and is not sent again'),
    );
    expect(image()).toBe('registry/web:1.0.0');
    expect(sim.deploymentTemplateChanges('prod', 'web')).toBe(changesBefore + 1);
  });
});
