import { expect, it } from 'vitest';
import { differingKeys, valueDigests } from '../../src/drivers/helm/values-keys.js';

it('names values keys as --set writes them and tells which differ, keeping no value', () => {
  const live = valueDigests({
    image: { tag: '1.1.0' },
    env: [{ name: 'A', value: 'secret-1' }],
    tolerations: [],
    resources: {},
    replicaCount: 3,
  });
  const restored = valueDigests({ image: { tag: '1.0.0' }, env: [{ name: 'A', value: 'secret-2' }], tolerations: [] });
  expect(Object.keys(live).sort()).toEqual([
    'env[0].name',
    'env[0].value',
    'image.tag',
    'replicaCount',
    'resources',
    'tolerations',
  ]);
  expect(JSON.stringify(live)).not.toContain('secret-1');
  expect(differingKeys(live, restored)).toEqual(['env[0].value', 'image.tag', 'replicaCount', 'resources']);
  expect(differingKeys(live, live)).toEqual([]);
});
