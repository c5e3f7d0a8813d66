import { describe, expect, it } from 'vitest';
import { helmDriver } from '../../src/drivers/helm/index.js';
import { helmTargetSchema } from '../../src/drivers/helm/target-schema.js';
import { silentLogger } from '../../src/log.js';
import { driverConformance } from '../support/driver-conformance.js';
import { appRelease } from '../support/harness.js';
import { kubeBinaries } from '../support/kube-binaries.js';
import { KubeSimulator } from '../support/kube-simulator/index.js';

driverConformance('helm', async () => {
  const { helm } = await kubeBinaries();
  const sim = await KubeSimulator.start({ readyDelayMs: 20 });
  sim.seedHelmRelease(appRelease(['superseded', 'deployed']));
  const kubeconfig = sim.writeKubeconfig();
  const build = (settings: object = {}, file = kubeconfig) =>
    helmDriver.create(
      'api',
      helmTargetSchema.parse({ kind: 'helm', release: 'app', namespace: 'prod', timeout: '30s', ...settings }),
      { kubeconfig: file, helmBin: helm },
      silentLogger(),
    );
  let seeded = 2;
  return {
    driver: build(),
    rebuilt: () => build(),
    others: () => [
      build({ namespace: 'staging' }),
      build({ release: 'web' }),
      // The same context name, "sim", in another kubeconfig naming another cluster.
      build({ context: 'sim' }, sim.writeKubeconfig(undefined, { server: 'https://10.0.0.1:6443' })),
    ],
    async deployElsewhere() {
      sim.seedHelmRelease(appRelease(['superseded', 'superseded', 'deployed']));
      seeded = 3;
    },
    changes: () => sim.helmReleases('prod', 'app').length - seeded,
    unknownVersion: '99',
    close: () => sim.close(),
  };
});

describe('helm driver identity', () => {
  it("is helm:<API server URL>/<namespace>/<release>: the cluster the context points at, not the context's name", async () => {
    const sim = await KubeSimulator.start();
    try {
      const build = (file: string, settings: object = {}) =>
        helmDriver.create(
          'api',
          helmTargetSchema.parse({ kind: 'helm', release: 'app', namespace: 'prod', ...settings }),
          { kubeconfig: file },
          silentLogger(),
        );
      const prod = build(sim.writeKubeconfig());
      expect(prod.identity).toBe(`helm:${sim.url}/prod/app`);
      expect(build(sim.writeKubeconfig(undefined, { context: 'blue' }), { context: 'blue' }).identity).toBe(
        prod.identity,
      );
      expect(
        build(sim.writeKubeconfig(undefined, { server: 'https://10.0.0.1:6443' }), { context: 'sim' }).identity,
      ).toBe('helm:https://10.0.0.1:6443/prod/app');
    } finally {
      await sim.close();
    }
  });
});
