import { describe, expect, it } from 'vitest';
import { targetsOf } from '../../src/core/alerts.js';
import { loadBody, problemsOf } from '../support/config-file.js';

const HEAD = 'incidentChannel: C1INC\napprovers: [U1APPROVER]\n';
const targets = (cdnAlerts = '') => `targets:
  cdn:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eY
${cdnAlerts}  edge:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eZ
`;

describe('rollback.yml alerts', () => {
  it("gives every target the file's window (30 min unless set), and a target its own matchers and window", () => {
    const plain = loadBody(HEAD + targets());
    expect(plain.targets.map((t) => t.alerts)).toEqual([
      { match: undefined, proposeWithinMs: 1_800_000 },
      { match: undefined, proposeWithinMs: 1_800_000 },
    ]);

    const config = loadBody(
      `${HEAD}alerts: { proposeWithin: 20m }\n${targets('    alerts: { match: { service: checkout, env: prod }, proposeWithin: 5m }\n')}`,
    );
    const [cdn, edge] = config.targets;
    expect(cdn?.alerts).toEqual({ match: { service: 'checkout', env: 'prod' }, proposeWithinMs: 300_000 });
    expect(edge?.alerts).toEqual({ match: undefined, proposeWithinMs: 1_200_000 });
    // The provider's schema never sees `alerts:` (a Fastly target takes no such key).
    expect(cdn?.settings).not.toHaveProperty('alerts');

    // Which targets an alert is about: the label naming one outright, else every target whose labels all match.
    const about = (labels: Record<string, string>) => targetsOf({ labels }, config.targets).map((t) => t.name);
    expect(about({ service: 'checkout', env: 'prod', alertname: 'X' })).toEqual(['cdn']);
    expect(about({ service: 'checkout' })).toEqual([]);
    expect(about({ rollback_target: 'edge', service: 'checkout', env: 'prod' })).toEqual(['edge']);
    expect(about({ rollback_target: 'nope' })).toEqual([]);
  });

  it('refuses a bad window, a bad label name, empty matchers and unknown keys, with the path', () => {
    expect(problemsOf(`${HEAD}alerts: { proposeWithin: soon }\n${targets()}`)).toEqual([
      'alerts.proposeWithin: "soon" is not a duration; write it like 90s, 15m or 1h',
    ]);
    expect(problemsOf(HEAD + targets('    alerts: { match: { "bad-label": x } }\n'))).toEqual([
      'targets.cdn.alerts.match.bad-label: must be a Prometheus label name',
    ]);
    expect(problemsOf(HEAD + targets('    alerts: { match: {} }\n'))).toEqual([
      'targets.cdn.alerts.match: must name at least one label',
    ]);
    expect(problemsOf(HEAD + targets('    alerts: { within: 5m }\n'))[0]).toMatch(/^targets\.cdn\.alerts: .*within/);
  });
});
