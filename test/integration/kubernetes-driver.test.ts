import { kubernetesDriver } from '../../src/drivers/kubernetes/index.js';
import { silentLogger } from '../../src/log.js';
import { driverConformance } from '../support/driver-conformance.js';
import { webDeployment } from '../support/harness.js';
import { KubeSimulator } from '../support/kube-simulator/index.js';

driverConformance('kubernetes', async () => {
  const sim = await KubeSimulator.start({ readyDelayMs: 20 });
  sim.createNamespace('prod');
  sim.applyDeployment('prod', webDeployment('registry/web:1.0.0'));
  sim.applyDeployment('prod', webDeployment('registry/web:1.1.0'));
  const target = kubernetesDriver.targetSchema.parse({ kind: 'kubernetes', namespace: 'prod', deployment: 'web', timeout: '20s' });
  const patches = () => sim.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/web')).length;
  return {
    driver: kubernetesDriver.create('web', target, { kubeconfig: sim.writeKubeconfig() }, silentLogger()),
    async deployElsewhere() {
      sim.applyDeployment('prod', webDeployment('registry/web:1.2.0'));
    },
    changes: patches,
    unknownVersion: '99',
    close: () => sim.close(),
  };
});
