/**
 * Server-side printing: `kubectl get` asks for `application/json;as=Table;g=meta.k8s.io;v=v1` and prints
 * the columns the server sends, so the simulator renders the same columns as the API server's printers
 * (pkg/printers/internalversion) for the kinds it serves.
 */
import { evaluateColumnPath } from './custom-resources.js';
import type { KubeObject } from './object-store.js';
import { isPodReady } from './pods.js';
import type { ResourceType } from './resources.js';
import { labelSelectorString } from './selectors.js';

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description: string;
  cell: (object: KubeObject) => string | number | boolean | null;
}

const name: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  cell: (o) => o.metadata.name,
};
const age: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (o) => humanDuration(Date.now() - Date.parse(o.metadata.creationTimestamp)),
};
const containers: Column = {
  name: 'Containers',
  type: 'string',
  priority: 1,
  description: 'Names of each container in the template.',
  cell: (o) => (o.spec.template?.spec?.containers ?? []).map((c: KubeObject) => c.name).join(','),
};
const images: Column = {
  name: 'Images',
  type: 'string',
  priority: 1,
  description: 'Images referenced by each container in the template.',
  cell: (o) => (o.spec.template?.spec?.containers ?? []).map((c: KubeObject) => c.image).join(','),
};
const selector: Column = {
  name: 'Selector',
  type: 'string',
  priority: 1,
  description: 'Label selector for pods.',
  cell: (o) => labelSelectorString(o.spec.selector),
};

const COLUMNS: Record<string, Column[]> = {
  deployments: [
    name,
    {
      name: 'Ready',
      type: 'string',
      description: 'Number of the pod with ready state',
      cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec.replicas ?? 0}`,
    },
    {
      name: 'Up-to-date',
      type: 'integer',
      description:
        'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
      cell: (o) => o.status?.updatedReplicas ?? 0,
    },
    {
      name: 'Available',
      type: 'integer',
      description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
      cell: (o) => o.status?.availableReplicas ?? 0,
    },
    age,
    containers,
    images,
    selector,
  ],
  replicasets: [
    name,
    {
      name: 'Desired',
      type: 'integer',
      description: 'Replicas is the number of desired replicas.',
      cell: (o) => o.spec.replicas ?? 0,
    },
    {
      name: 'Current',
      type: 'integer',
      description: 'Replicas is the most recently observed number of replicas.',
      cell: (o) => o.status?.replicas ?? 0,
    },
    {
      name: 'Ready',
      type: 'integer',
      description: 'The number of ready replicas for this replica set.',
      cell: (o) => o.status?.readyReplicas ?? 0,
    },
    age,
    containers,
    images,
    selector,
  ],
  pods: [
    name,
    {
      name: 'Ready',
      type: 'string',
      description: 'The aggregate readiness state of this pod for accepting traffic.',
      cell: (o) =>
        `${(o.status?.containerStatuses ?? []).filter((c: KubeObject) => c.ready).length}/${(o.spec.containers ?? []).length}`,
    },
    {
      name: 'Status',
      type: 'string',
      description: 'The aggregate status of the containers in this pod.',
      cell: podStatus,
    },
    {
      name: 'Restarts',
      type: 'string',
      description:
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      cell: (o) =>
        String((o.status?.containerStatuses ?? []).reduce((n: number, c: KubeObject) => n + (c.restartCount ?? 0), 0)),
    },
    age,
    {
      name: 'IP',
      type: 'string',
      priority: 1,
      description: 'IP address allocated to the pod.',
      cell: (o) => o.status?.podIP ?? '<none>',
    },
    {
      name: 'Node',
      type: 'string',
      priority: 1,
      description: 'Name of the Node the Pod is bound to.',
      cell: (o) => o.spec.nodeName ?? '<none>',
    },
    {
      name: 'Nominated Node',
      type: 'string',
      priority: 1,
      description: 'Name of the node where the pod is nominated.',
      cell: () => '<none>',
    },
    { name: 'Readiness Gates', type: 'string', priority: 1, description: 'Readiness gates.', cell: () => '<none>' },
  ],
  secrets: [
    name,
    { name: 'Type', type: 'string', description: 'The type of the secret', cell: (o) => o.type ?? 'Opaque' },
    {
      name: 'Data',
      type: 'string',
      description: 'The number of items in the secret',
      cell: (o) => String(Object.keys(o.data ?? {}).length),
    },
    age,
  ],
  configmaps: [
    name,
    {
      name: 'Data',
      type: 'string',
      description: 'Number of data in the configmap',
      cell: (o) => String(Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length),
    },
    age,
  ],
  namespaces: [
    name,
    {
      name: 'Status',
      type: 'string',
      description: 'The status of the namespace',
      cell: (o) => o.status?.phase ?? 'Active',
    },
    age,
  ],
};

function podStatus(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  for (const c of pod.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) return c.state.waiting.reason;
    if (c.state?.terminated?.reason) return c.state.terminated.reason;
  }
  if (pod.status?.phase === 'Running' && !isPodReady(pod)) return 'Running';
  return pod.status?.phase ?? 'Pending';
}

export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}

export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  includeObject: string | undefined,
  resourceVersion?: string,
): KubeObject {
  const columns = type.custom ? customColumns(type) : (COLUMNS[type.name] ?? [name, age]);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: resourceVersion ? { resourceVersion } : {},
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? o
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}

/**
 * A custom resource's columns (apiextensions-apiserver tableconvertor): Name, then the CRD's
 * additionalPrinterColumns; a path that finds nothing gives a null cell, a `date` a human duration.
 */
function customColumns(type: ResourceType): Column[] {
  const columns: Column[] = [name];
  for (const column of type.custom?.printerColumns ?? []) {
    columns.push({
      name: column.name,
      type: column.type,
      ...(column.priority ? { priority: column.priority } : {}),
      description: column.description ?? '',
      cell: (o) => {
        const value = evaluateColumnPath(o, column.jsonPath);
        if (value === undefined || value === null) return null;
        if (column.type === 'date') return humanDuration(Date.now() - Date.parse(String(value)));
        return typeof value === 'object' ? JSON.stringify(value) : (value as string | number | boolean);
      },
    });
  }
  return columns;
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (years < 8) return `${years}y${Math.floor(hours / 24) % 365}d`;
  return `${years}y`;
}
