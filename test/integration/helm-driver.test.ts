import { helmDriver } from '../../src/drivers/helm/index.js';
import { silentLogger } from '../../src/log.js';
import { driverConformance } from '../support/driver-conformance.js';
import { kubeBinaries } from '../support/kube-binaries.js';
import { KubeSimulator, type HelmReleaseSpec } from '../support/kube-simulator/index.js';

export function appRelease(statuses: Array<'superseded' | 'deployed' | 'failed' | 'pending-upgrade'>): HelmReleaseSpec {
  return {
    name: 'app',
    namespace: 'prod',
    chart: { name: 'api', version: '1.0.0', appVersion: '1.0.0' },
    revisions: statuses.map((status, i) => ({ image: `registry/api:1.${i}.0`, appVersion: `1.${i}.0`, chartVersion: `1.${i}.0`, status })),
  };
}

driverConformance('helm', async () => {
  const { helm } = await kubeBinaries();
  const sim = await KubeSimulator.start({ readyDelayMs: 20 });
  sim.seedHelmRelease(appRelease(['superseded', 'deployed']));
  const target = helmDriver.targetSchema.parse({ kind: 'helm', release: 'app', namespace: 'prod', timeout: '30s' });
  let seeded = 2;
  return {
    driver: helmDriver.create('api', target, { kubeconfig: sim.writeKubeconfig(), helmBin: helm }, silentLogger()),
    async deployElsewhere() {
      sim.seedHelmRelease(appRelease(['superseded', 'superseded', 'deployed']));
      seeded = 3;
    },
    changes: () => sim.helmReleases('prod', 'app').length - seeded,
    unknownVersion: '99',
    close: () => sim.close(),
  };
});
