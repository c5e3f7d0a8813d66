/** The resource types the simulator serves, as discovery describes them. */
import { CUSTOM_RESOURCE_TYPES, type CustomResourceInfo } from './custom-resources.js';

export interface ResourceType {
  group: string;
  version: string;
  /** Plural, as in URLs: `deployments`. */
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Has a `/status` subresource: the main endpoint ignores status, the subresource ignores the rest. */
  hasStatus: boolean;
  /** metadata.generation is bumped on spec changes, as for every type with a status subresource. */
  tracksGeneration: boolean;
  subresources: Array<{ name: string; kind: string; group?: string; version?: string; verbs: string[] }>;
  /** Set for a custom resource (custom-resources.ts): served only once its CRD is installed. */
  custom?: CustomResourceInfo;
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCE_TYPES: ResourceType[] = [
  {
    group: '',
    version: 'v1',
    name: 'namespaces',
    singularName: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['ns'],
    hasStatus: true,
    tracksGeneration: false,
    subresources: [{ name: 'status', kind: 'Namespace', verbs: ['get', 'patch', 'update'] }],
  },
  {
    group: '',
    version: 'v1',
    name: 'pods',
    singularName: 'pod',
    kind: 'Pod',
    namespaced: true,
    verbs: CRUD,
    shortNames: ['po'],
    categories: ['all'],
    hasStatus: true,
    tracksGeneration: false,
    subresources: [
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    ],
  },
  {
    group: '',
    version: 'v1',
    name: 'secrets',
    singularName: 'secret',
    kind: 'Secret',
    namespaced: true,
    verbs: CRUD,
    hasStatus: false,
    tracksGeneration: false,
    subresources: [],
  },
  {
    group: '',
    version: 'v1',
    name: 'configmaps',
    singularName: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    verbs: CRUD,
    shortNames: ['cm'],
    hasStatus: false,
    tracksGeneration: false,
    subresources: [],
  },
  {
    group: '',
    version: 'v1',
    name: 'services',
    singularName: 'service',
    kind: 'Service',
    namespaced: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['svc'],
    categories: ['all'],
    hasStatus: true,
    tracksGeneration: false,
    subresources: [{ name: 'status', kind: 'Service', verbs: ['get', 'patch', 'update'] }],
  },
  {
    group: '',
    version: 'v1',
    name: 'events',
    singularName: 'event',
    kind: 'Event',
    namespaced: true,
    verbs: CRUD,
    shortNames: ['ev'],
    hasStatus: false,
    tracksGeneration: false,
    subresources: [],
  },
  {
    group: '',
    version: 'v1',
    name: 'serviceaccounts',
    singularName: 'serviceaccount',
    kind: 'ServiceAccount',
    namespaced: true,
    verbs: CRUD,
    shortNames: ['sa'],
    hasStatus: false,
    tracksGeneration: false,
    subresources: [],
  },
  {
    group: 'apps',
    version: 'v1',
    name: 'deployments',
    singularName: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    verbs: CRUD,
    shortNames: ['deploy'],
    categories: ['all'],
    hasStatus: true,
    tracksGeneration: true,
    subresources: [
      { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
      { name: 'status', kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
    ],
  },
  {
    group: 'apps',
    version: 'v1',
    name: 'replicasets',
    singularName: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
    verbs: CRUD,
    shortNames: ['rs'],
    categories: ['all'],
    hasStatus: true,
    tracksGeneration: true,
    subresources: [
      { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
      { name: 'status', kind: 'ReplicaSet', verbs: ['get', 'patch', 'update'] },
    ],
  },
];

export function groupVersion(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function findType(
  group: string,
  version: string,
  name: string,
  types: ResourceType[] = RESOURCE_TYPES,
): ResourceType | undefined {
  return types.find((t) => t.group === group && t.version === version && t.name === name);
}

export function typeOf(name: string): ResourceType {
  const type = RESOURCE_TYPES.find((t) => t.name === name) ?? CUSTOM_RESOURCE_TYPES.find((t) => t.name === name);
  if (!type) throw new Error(`kube-simulator: unknown resource ${name}`);
  return type;
}
