import { expect, it } from 'vitest';
import { fastlyDriver } from '../../src/drivers/fastly/index.js';
import { fastlyTargetSchema } from '../../src/drivers/fastly/target-schema.js';
import { silentLogger } from '../../src/log.js';
import { driverConformance } from '../support/driver-conformance.js';
import { FastlySimulator } from '../support/fastly-simulator.js';

const SERVICE = 'SU1Z0isxPaozGVKXdv0eY';
const STAGING_SERVICE = '7i6HN3TK9wS159v2gPAZ8A';

driverConformance('fastly', async () => {
  const sim = await FastlySimulator.start();
  sim.addService({ id: SERVICE, name: 'www-prod', versions: 42, active: 42 });
  const build = (serviceId = SERVICE) =>
    fastlyDriver.create(
      'cdn',
      fastlyTargetSchema.parse({ kind: 'fastly', serviceId }),
      { fastly: { token: sim.token, baseUrl: sim.url } },
      silentLogger(),
    );
  return {
    driver: build(),
    rebuilt: () => build(),
    // A staging rollback.yml that reuses the name "cdn" for another service.
    others: () => [build(STAGING_SERVICE)],
    async deployElsewhere() {
      sim.addVersion(SERVICE, { number: 43, locked: true });
      sim.activateOutOfBand(SERVICE, 43);
    },
    changes: () => sim.activations.length,
    unknownVersion: '99',
    close: () => sim.close(),
  };
});

it('fastly driver identity is fastly:<service ID>, whatever the target is called', () => {
  const build = (name: string, serviceId: string) =>
    fastlyDriver.create(
      name,
      fastlyTargetSchema.parse({ kind: 'fastly', serviceId }),
      { fastly: { token: 'unused', baseUrl: 'https://api.fastly.invalid' } },
      silentLogger(),
    );
  expect(build('cdn', SERVICE).identity).toBe(`fastly:${SERVICE}`);
  expect(build('www', SERVICE).identity).toBe(`fastly:${SERVICE}`);
  expect(build('cdn', STAGING_SERVICE).identity).toBe(`fastly:${STAGING_SERVICE}`);
});
