/**
 * Legacy (unaggregated) discovery: /version, /api, /apis, /api/v1, /apis/apps/v1. client-go asks for
 * aggregated discovery first (Accept: ...;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList) and falls
 * back to these documents when the answer is plain `application/json`, as an older API server's would be.
 */
import { createHash } from 'node:crypto';
import { groupVersion, RESOURCE_TYPES, type ResourceType } from './resources.js';

export const SERVER_VERSION = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0',
  gitCommit: '60a317eadfcb839692a5fb9d5c8d8d8e8f8a9b3c',
  gitTreeState: 'clean',
  buildDate: '2025-04-23T13:00:00Z',
  goVersion: 'go1.24.2',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** `types`: what is served, the built-in kinds plus the custom resources whose CRDs are installed. */
export function apiGroupList(types: ResourceType[] = RESOURCE_TYPES): Record<string, unknown> {
  const groups = [...new Set(types.map((t) => t.group).filter(Boolean))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((name) => apiGroup(name, types)) };
}

/** The APIGroup document of `/apis/<group>`: its versions, the first preferred. */
export function apiGroup(name: string, types: ResourceType[] = RESOURCE_TYPES): Record<string, unknown> {
  const versions = [...new Set(types.filter((t) => t.group === name).map((t) => t.version))].map((version) => ({
    groupVersion: `${name}/${version}`,
    version,
  }));
  return { name, versions, preferredVersion: versions[0] };
}

/** The APIResourceList of one group version, or undefined when the simulator does not serve it. */
export function apiResourceList(
  group: string,
  version: string,
  served: ResourceType[] = RESOURCE_TYPES,
): Record<string, unknown> | undefined {
  const types = served.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: Array<Record<string, unknown>> = [];
  for (const t of types) {
    resources.push({
      name: t.name,
      singularName: t.singularName,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {}),
      storageVersionHash: createHash('sha256')
        .update(`${groupVersion(t)}/${t.kind}`)
        .digest('base64')
        .slice(0, 11),
    });
    for (const sub of t.subresources) {
      resources.push({
        name: `${t.name}/${sub.name}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(sub.group ? { group: sub.group, version: sub.version } : {}),
        kind: sub.kind,
        verbs: sub.verbs,
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}
