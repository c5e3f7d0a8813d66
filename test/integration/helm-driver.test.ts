import { helmDriver } from '../../src/drivers/helm/index.js';
import { silentLogger } from '../../src/log.js';
import { driverConformance } from '../support/driver-conformance.js';
import { kubeBinaries } from '../support/kube-binaries.js';
import { appRelease } from '../support/harness.js';
import { KubeSimulator } from '../support/kube-simulator/index.js';

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
