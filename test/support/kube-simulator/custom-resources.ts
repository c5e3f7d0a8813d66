/**
 * The GitOps controllers' custom resources, served as the API server serves any CRD
 * (k8s.io/apiextensions-apiserver): Argo CD's Application (argoproj.io/v1alpha1, no status subresource,
 * so its status is written through the main endpoint and every write bumps metadata.generation) and
 * Flux's Kustomization (kustomize.toolkit.fluxcd.io/v1) and HelmRelease (helm.toolkit.fluxcd.io/v2), both
 * with a status subresource. Names, short names, categories, printer columns, the status default and the
 * validated fields come from the CRDs the projects ship (argo-cd manifests/crds/application-crd.yaml,
 * kustomize-controller and helm-controller config/crd/bases), read in August 2026.
 *
 * Validation covers the fields the simulator's tests and reconciler rely on (a subset of each schema, with
 * the API server's own messages); unknown fields are kept rather than pruned.
 */
import { ApiError } from './api-error.js';
import type { KubeObject } from './object-store.js';
import type { ResourceType } from './resources.js';

/** One `additionalPrinterColumns` entry of a CRD version. */
interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer' | 'boolean' | 'number';
  jsonPath: string;
  priority?: number;
  description?: string;
}

/** The parts of an OpenAPI v3 structural schema the simulator checks. */
interface SchemaNode {
  type?: 'object' | 'string' | 'boolean' | 'integer' | 'array';
  properties?: Record<string, SchemaNode>;
  required?: string[];
  pattern?: string;
  enum?: string[];
  items?: SchemaNode;
}

export interface CustomResourceInfo {
  /** The CustomResourceDefinition's name, `<plural>.<group>`. */
  crdName: string;
  /** Which GitOps stack installs it: CRDs are served once installed (see KubeSimulator.installCrds). */
  stack: 'argocd' | 'flux';
  printerColumns: PrinterColumn[];
  schema: SchemaNode;
  /** The schema's `default`s: applied on every write, as the API server does when it decodes. */
  defaults?: (object: KubeObject) => void;
}

/** The verbs discovery lists for every custom resource, in the API server's order. */
const CR_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];
const DURATION = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const str: SchemaNode = { type: 'string' };
const bool: SchemaNode = { type: 'boolean' };
const obj = (properties: Record<string, SchemaNode>, required?: string[]): SchemaNode => ({
  type: 'object',
  properties,
  ...(required ? { required } : {}),
});
const healthStatus = obj({ status: str, message: str, lastTransitionTime: str });
const fluxConditions: SchemaNode = {
  type: 'array',
  items: obj({ type: str, status: str, reason: str, message: str, lastTransitionTime: str }, [
    'lastTransitionTime',
    'message',
    'reason',
    'status',
    'type',
  ]),
};
const crossNamespaceRef = obj({ apiVersion: str, kind: str, name: str, namespace: str }, ['kind', 'name']);

const APPLICATION_SCHEMA = obj(
  {
    apiVersion: str,
    kind: str,
    metadata: { type: 'object' },
    operation: { type: 'object' },
    spec: obj(
      {
        project: str,
        destination: obj({ name: str, namespace: str, server: str }),
        source: obj({ repoURL: str, path: str, targetRevision: str, chart: str, ref: str, name: str }, ['repoURL']),
        sources: { type: 'array', items: obj({ repoURL: str, path: str, targetRevision: str }, ['repoURL']) },
        syncPolicy: obj({
          automated: obj({ allowEmpty: bool, enabled: bool, prune: bool, selfHeal: bool }),
          syncOptions: { type: 'array', items: str },
          retry: { type: 'object' },
          managedNamespaceMetadata: { type: 'object' },
        }),
        revisionHistoryLimit: { type: 'integer' },
        ignoreDifferences: { type: 'array' },
        info: { type: 'array' },
      },
      ['destination', 'project'],
    ),
    status: obj({
      sync: obj(
        { status: str, revision: str, revisions: { type: 'array', items: str }, comparedTo: { type: 'object' } },
        ['status'],
      ),
      health: healthStatus,
      history: {
        type: 'array',
        items: obj({ id: { type: 'integer' }, revision: str, deployedAt: str }, ['deployedAt', 'id']),
      },
      resources: { type: 'array' },
      operationState: { type: 'object' },
      reconciledAt: str,
      sourceType: str,
      summary: { type: 'object' },
      conditions: { type: 'array' },
    }),
  },
  ['metadata', 'spec'],
);

const KUSTOMIZATION_SCHEMA = obj({
  apiVersion: str,
  kind: str,
  metadata: { type: 'object' },
  spec: obj(
    {
      interval: { type: 'string', pattern: DURATION },
      retryInterval: { type: 'string', pattern: DURATION },
      timeout: { type: 'string', pattern: DURATION },
      suspend: bool,
      prune: bool,
      force: bool,
      wait: bool,
      path: str,
      targetNamespace: str,
      serviceAccountName: str,
      sourceRef: obj(
        {
          apiVersion: str,
          kind: { type: 'string', enum: ['OCIRepository', 'GitRepository', 'Bucket', 'ExternalArtifact'] },
          name: str,
          namespace: str,
        },
        ['kind', 'name'],
      ),
      dependsOn: { type: 'array' },
    },
    ['interval', 'prune', 'sourceRef'],
  ),
  status: obj({
    observedGeneration: { type: 'integer' },
    conditions: fluxConditions,
    lastAppliedRevision: str,
    lastAttemptedRevision: str,
    lastHandledReconcileAt: str,
    inventory: { type: 'object' },
    history: { type: 'array' },
  }),
});

const HELMRELEASE_SCHEMA = obj({
  apiVersion: str,
  kind: str,
  metadata: { type: 'object' },
  spec: obj(
    {
      interval: { type: 'string', pattern: DURATION },
      timeout: { type: 'string', pattern: DURATION },
      suspend: bool,
      releaseName: str,
      targetNamespace: str,
      storageNamespace: str,
      chart: obj(
        {
          metadata: { type: 'object' },
          spec: obj(
            {
              chart: str,
              version: str,
              interval: { type: 'string', pattern: DURATION },
              reconcileStrategy: { type: 'string', enum: ['ChartVersion', 'Revision'] },
              sourceRef: obj(
                {
                  apiVersion: str,
                  kind: { type: 'string', enum: ['HelmRepository', 'GitRepository', 'Bucket'] },
                  name: str,
                  namespace: str,
                },
                ['kind', 'name'],
              ),
            },
            ['chart', 'sourceRef'],
          ),
        },
        ['spec'],
      ),
      chartRef: crossNamespaceRef,
      driftDetection: obj({
        mode: { type: 'string', enum: ['enabled', 'warn', 'disabled'] },
        ignore: { type: 'array' },
      }),
      values: { type: 'object' },
      install: { type: 'object' },
      upgrade: { type: 'object' },
    },
    ['interval'],
  ),
  status: obj({
    observedGeneration: { type: 'integer' },
    conditions: fluxConditions,
    history: { type: 'array' },
    lastAttemptedRevision: str,
    lastAttemptedGeneration: { type: 'integer' },
    lastAttemptedReleaseAction: { type: 'string', enum: ['install', 'upgrade'] },
    lastHandledReconcileAt: str,
    helmChart: str,
    storageNamespace: str,
  }),
});

const readyColumns: PrinterColumn[] = [
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].message' },
];

/** `status: {observedGeneration: -1}` is the Flux CRDs' schema default for an object no controller has seen. */
function fluxStatusDefault(object: KubeObject): void {
  object.status ??= { observedGeneration: -1 };
}

export const CUSTOM_RESOURCE_TYPES: ResourceType[] = [
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    name: 'applications',
    singularName: 'application',
    kind: 'Application',
    namespaced: true,
    verbs: CR_VERBS,
    shortNames: ['app', 'apps'],
    hasStatus: false,
    tracksGeneration: true,
    subresources: [],
    custom: {
      crdName: 'applications.argoproj.io',
      stack: 'argocd',
      printerColumns: [
        { name: 'Sync Status', type: 'string', jsonPath: '.status.sync.status' },
        { name: 'Health Status', type: 'string', jsonPath: '.status.health.status' },
        { name: 'Revision', type: 'string', jsonPath: '.status.sync.revision', priority: 10 },
        { name: 'Project', type: 'string', jsonPath: '.spec.project', priority: 10 },
      ],
      schema: APPLICATION_SCHEMA,
    },
  },
  {
    group: 'kustomize.toolkit.fluxcd.io',
    version: 'v1',
    name: 'kustomizations',
    singularName: 'kustomization',
    kind: 'Kustomization',
    namespaced: true,
    verbs: CR_VERBS,
    shortNames: ['ks'],
    categories: ['all', 'fluxcd', 'fluxcd-appliers'],
    hasStatus: true,
    tracksGeneration: true,
    subresources: [{ name: 'status', kind: 'Kustomization', verbs: ['get', 'patch', 'update'] }],
    custom: {
      crdName: 'kustomizations.kustomize.toolkit.fluxcd.io',
      stack: 'flux',
      printerColumns: readyColumns,
      schema: KUSTOMIZATION_SCHEMA,
      defaults: (object) => {
        if (object.spec && typeof object.spec === 'object') object.spec.force ??= false;
        fluxStatusDefault(object);
      },
    },
  },
  {
    group: 'helm.toolkit.fluxcd.io',
    version: 'v2',
    name: 'helmreleases',
    singularName: 'helmrelease',
    kind: 'HelmRelease',
    namespaced: true,
    verbs: CR_VERBS,
    shortNames: ['hr'],
    categories: ['all', 'fluxcd', 'fluxcd-appliers'],
    hasStatus: true,
    tracksGeneration: true,
    subresources: [{ name: 'status', kind: 'HelmRelease', verbs: ['get', 'patch', 'update'] }],
    custom: {
      crdName: 'helmreleases.helm.toolkit.fluxcd.io',
      stack: 'flux',
      printerColumns: readyColumns,
      schema: HELMRELEASE_SCHEMA,
      defaults: (object) => {
        const chartSpec = object.spec?.chart?.spec;
        if (chartSpec && typeof chartSpec === 'object') {
          chartSpec.reconcileStrategy ??= 'ChartVersion';
          chartSpec.version ??= '*';
        }
        fluxStatusDefault(object);
      },
    },
  },
];

// ---- validation ---------------------------------------------------------------------------------------

interface FieldError {
  field: string;
  reason: 'FieldValueRequired' | 'FieldValueTypeInvalid' | 'FieldValueInvalid' | 'FieldValueNotSupported';
  detail: string;
}

function goType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(schema: SchemaNode, value: unknown): boolean {
  const actual = goType(value);
  return schema.type === actual || (schema.type === 'object' && actual === 'object');
}

function check(schema: SchemaNode, value: unknown, field: string, errors: FieldError[]): void {
  if (schema.type && !typeMatches(schema, value)) {
    const got = goType(value);
    errors.push({
      field,
      reason: 'FieldValueTypeInvalid',
      detail: `Invalid value: "${got}": ${field} in body must be of type ${schema.type}: "${got}"`,
    });
    return;
  }
  if (schema.enum && typeof value === 'string' && !schema.enum.includes(value)) {
    errors.push({
      field,
      reason: 'FieldValueNotSupported',
      detail: `Unsupported value: "${value}": supported values: ${schema.enum.map((v) => `"${v}"`).join(', ')}`,
    });
  }
  if (schema.pattern && typeof value === 'string' && !new RegExp(schema.pattern).test(value)) {
    errors.push({
      field,
      reason: 'FieldValueInvalid',
      detail: `Invalid value: "${value}": ${field} in body should match '${schema.pattern}'`,
    });
  }
  if (schema.type === 'array' && schema.items && Array.isArray(value)) {
    value.forEach((item, i) => {
      check(schema.items as SchemaNode, item, `${field}[${i}]`, errors);
    });
  }
  if (schema.type === 'object' && value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (record[key] === undefined) {
        errors.push({ field: field ? `${field}.${key}` : key, reason: 'FieldValueRequired', detail: 'Required value' });
      }
    }
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (record[key] !== undefined) check(child, record[key], field ? `${field}.${key}` : key, errors);
    }
  }
}

/**
 * The structural-schema check the API server runs on every create and update of a custom resource: a
 * 422 Invalid naming each field, as `<Kind>.<group> "<name>" is invalid: <field>: <detail>` (several
 * errors in brackets, comma-separated), with the causes in details.
 */
export function validateCustomResource(type: ResourceType, object: KubeObject): void {
  const schema = type.custom?.schema;
  if (!schema) return;
  const errors: FieldError[] = [];
  check(schema, object, '', errors);
  if (errors.length === 0) return;
  const name = String(object.metadata?.name ?? '');
  const parts = errors.map((e) => `${e.field}: ${e.detail}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  throw new ApiError(422, 'Invalid', `${type.kind}.${type.group} "${name}" is invalid: ${summary}`, {
    name,
    group: type.group,
    kind: type.kind,
    causes: errors.map((e) => ({ reason: e.reason, message: e.detail, field: e.field })),
  });
}

// ---- printer columns --------------------------------------------------------------------------------

/**
 * Evaluates the JSONPath forms CRD printer columns use: `.a.b.c` and `.a[?(@.k=="v")].b`. Undefined when
 * nothing matches (the API server then sends a null cell).
 */
export function evaluateColumnPath(object: KubeObject, jsonPath: string): unknown {
  let nodes: unknown[] = [object];
  const steps = jsonPath.match(/\.[^.[]+|\[\?\(@\.[^=]+=="[^"]*"\)\]/g) ?? [];
  for (const step of steps) {
    const next: unknown[] = [];
    const filter = /^\[\?\(@\.([^=]+)=="([^"]*)"\)\]$/.exec(step);
    for (const node of nodes) {
      if (filter) {
        const [, key, value] = filter as unknown as [string, string, string];
        if (Array.isArray(node)) next.push(...node.filter((item) => item && item[key] === value));
      } else if (node && typeof node === 'object' && !Array.isArray(node)) {
        const child = (node as Record<string, unknown>)[step.slice(1)];
        if (child !== undefined) next.push(child);
      }
    }
    nodes = next;
  }
  return nodes[0];
}
