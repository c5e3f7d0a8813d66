import { fastlyDriver } from '../../src/drivers/fastly/index.js';
import { silentLogger } from '../../src/log.js';
import { driverConformance } from '../support/driver-conformance.js';
import { FastlySimulator } from '../support/fastly-simulator.js';

const SERVICE = 'SU1Z0isxPaozGVKXdv0eY';

driverConformance('fastly', async () => {
  const sim = await FastlySimulator.start();
  sim.addService({ id: SERVICE, name: 'www-prod', versions: 42, active: 42 });
  const target = fastlyDriver.targetSchema.parse({ kind: 'fastly', serviceId: SERVICE });
  return {
    driver: fastlyDriver.create('cdn', target, { fastly: { token: sim.token, baseUrl: sim.url } }, silentLogger()),
    async deployElsewhere() {
      sim.addVersion(SERVICE, { number: 43, locked: true });
      sim.activateOutOfBand(SERVICE, 43);
    },
    changes: () => sim.activations.length,
    unknownVersion: '99',
    close: () => sim.close(),
  };
});
