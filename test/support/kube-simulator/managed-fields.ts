/**
 * metadata.managedFields as the API server's field manager keeps them (k8s.io/apiserver
 * pkg/endpoints/handlers/fieldmanager, sigs.k8s.io/structured-merge-diff), simplified:
 *  - an Update (create, PUT, a merge/JSON/strategic patch) gives its manager the fields it changed and
 *    takes them from every other manager; an Apply (server-side apply, forced) gives its manager exactly
 *    the fields it applied, taken likewise; fields removed from the object leave every set;
 *  - entries are keyed by manager, operation and subresource, stamped with apiVersion and the time, and
 *    sorted as the server sorts them (operation, then time, then manager); an emptied entry goes;
 *  - the manager is the request's `fieldManager`, or the User-Agent up to its first `/`.
 * Field sets are FieldsV1: `f:<field>`, `k:<key json>` for items of keyed lists, `v:<value>` for set
 * items, `.` for a map or list item owned as a whole. Apply conflicts are not modelled.
 */
import type { KubeObject } from './object-store.js';
import type { ResourceType } from './resources.js';

export interface FieldManagerWrite {
  manager: string;
  operation: 'Update' | 'Apply';
  subresource?: 'status';
  /** For an Apply: the configuration applied (its fields are what the manager owns). */
  applied?: KubeObject;
}

/** The manager name the API server records for a request: `?fieldManager=`, else the User-Agent's prefix. */
export function managerOf(fieldManager: string | null | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  return (userAgent ?? '').split('/')[0] ?? '';
}

const SEP = '\u0000';
const SERVER_OWNED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

/** The keys of the built-in kinds' associative lists (their `listMapKeys`); `set` lists hold scalars. */
function listKeys(field: string, path: string[]): string[] | 'set' | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
      return ['name'];
    case 'volumeMounts':
      return ['mountPath'];
    case 'conditions':
      return ['type'];
    case 'ownerReferences':
      return ['uid'];
    case 'hostAliases':
      return ['ip'];
    case 'ports':
      return path.some((p) => p === 'f:containers' || p === 'f:initContainers')
        ? ['containerPort', 'protocol']
        : ['port', 'protocol'];
    case 'finalizers':
      return 'set';
    default:
      return undefined;
  }
}

const GRANULAR_MAPS = new Set(['labels', 'annotations', 'matchLabels', 'nodeSelector', 'data', 'stringData']);

interface Flat {
  /** Leaf path → its value as JSON. */
  leaves: Map<string, string>;
  /** Paths of nodes owned as a whole too (`.`): keyed list items and granular maps. */
  wholes: Set<string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every field path of `object` the field manager tracks on this endpoint. */
function flatten(type: ResourceType, object: KubeObject, subresource: 'status' | undefined): Flat {
  const flat: Flat = { leaves: new Map(), wholes: new Set() };
  const builtIn = !type.custom;
  const walk = (value: unknown, path: string[], field: string): void => {
    if (isObject(value) && Object.keys(value).length > 0 && field !== 'selector') {
      if (GRANULAR_MAPS.has(field)) flat.wholes.add(path.join(SEP));
      for (const [k, v] of Object.entries(value)) walk(v, [...path, `f:${k}`], k);
      return;
    }
    const keys = builtIn && Array.isArray(value) ? listKeys(field, path) : undefined;
    if (Array.isArray(value) && keys === 'set') {
      for (const item of value) flat.leaves.set([...path, `v:${JSON.stringify(item)}`].join(SEP), 'true');
      return;
    }
    if (Array.isArray(value) && keys && value.every(isObject)) {
      for (const item of value as Array<Record<string, unknown>>) {
        const key: Record<string, unknown> = {};
        for (const k of keys) if (item[k] !== undefined) key[k] = item[k];
        const itemPath = [...path, `k:${JSON.stringify(key)}`];
        flat.wholes.add(itemPath.join(SEP));
        for (const [k, v] of Object.entries(item)) walk(v, [...itemPath, `f:${k}`], k);
      }
      return;
    }
    flat.leaves.set(path.join(SEP), JSON.stringify(value));
  };
  for (const [k, v] of Object.entries(object)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    const statusOnly = subresource === 'status';
    if (statusOnly !== (k === 'status') && (type.hasStatus || statusOnly)) continue;
    if (k === 'metadata') {
      for (const [mk, mv] of Object.entries((v ?? {}) as Record<string, unknown>)) {
        if (!SERVER_OWNED_METADATA.has(mk)) walk(mv, ['f:metadata', `f:${mk}`], mk);
      }
      continue;
    }
    walk(v, [`f:${k}`], k);
  }
  return flat;
}

const under = (path: string, prefix: string): boolean => path === prefix || path.startsWith(prefix + SEP);

function toFieldsV1(paths: Iterable<string>): KubeObject {
  const root: KubeObject = {};
  for (const path of paths) {
    let node = root;
    for (const segment of path.split(SEP)) {
      node[segment] ??= {};
      node = node[segment];
    }
    if (path !== '') node['.'] = node['.'] ?? undefined;
  }
  // `.` marks the node itself only where the set holds it alongside its children.
  const tidy = (node: KubeObject, owned: boolean): KubeObject => {
    const out: KubeObject = {};
    const children = Object.keys(node).filter((k) => k !== '.');
    if (owned && children.length > 0 && '.' in node) out['.'] = {};
    for (const k of children.sort()) out[k] = tidy(node[k], true);
    return out;
  };
  const result: KubeObject = {};
  for (const k of Object.keys(root).sort()) result[k] = tidy(root[k], true);
  return result;
}

function fromFieldsV1(fields: KubeObject | undefined, prefix: string[] = [], out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (k === '.') {
      out.add(prefix.join(SEP));
      continue;
    }
    const path = [...prefix, k];
    if (isObject(v) && Object.keys(v).length > 0) fromFieldsV1(v, path, out);
    else out.add(path.join(SEP));
  }
  return out;
}

/**
 * The managedFields of `after`, written by `write` over `before` (undefined for a create). Returns the
 * new list; the caller stores it in after.metadata.managedFields.
 */
export function nextManagedFields(
  type: ResourceType,
  before: KubeObject | undefined,
  after: KubeObject,
  write: FieldManagerWrite,
  time: string,
): KubeObject[] {
  const old = before
    ? flatten(type, before, write.subresource)
    : { leaves: new Map<string, string>(), wholes: new Set<string>() };
  const now = flatten(type, after, write.subresource);
  const removed = [...old.leaves.keys(), ...old.wholes].filter((p) => !now.leaves.has(p) && !now.wholes.has(p));
  let taken: Set<string>;
  if (write.operation === 'Apply' && write.applied) {
    const applied = flatten(type, write.applied, write.subresource);
    taken = new Set([...applied.leaves.keys(), ...applied.wholes]);
  } else {
    taken = new Set<string>();
    for (const [p, v] of now.leaves) if (old.leaves.get(p) !== v) taken.add(p);
    for (const p of now.wholes) if (!old.wholes.has(p)) taken.add(p);
  }

  const entries = (before?.metadata?.managedFields ?? []) as KubeObject[];
  const sameEntry = (e: KubeObject) =>
    e.manager === write.manager &&
    e.operation === write.operation &&
    (e.subresource ?? '') === (write.subresource ?? '');
  const result: KubeObject[] = [];
  let mine: Set<string> = new Set();
  for (const entry of entries) {
    const set = fromFieldsV1(entry.fieldsV1);
    if (sameEntry(entry)) {
      // An Apply owns what it applied this time; an Update adds to what it had.
      if (write.operation === 'Update') mine = set;
      continue;
    }
    for (const p of [...set]) {
      if (taken.has(p) || removed.some((r) => under(p, r))) set.delete(p);
    }
    if (set.size > 0) result.push({ ...entry, fieldsV1: toFieldsV1(set) });
  }
  for (const p of taken) mine.add(p);
  for (const p of [...mine]) if (removed.some((r) => under(p, r))) mine.delete(p);
  if (mine.size > 0) {
    result.push({
      manager: write.manager,
      operation: write.operation,
      apiVersion: after.apiVersion,
      time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(mine),
      ...(write.subresource ? { subresource: write.subresource } : {}),
    });
  }
  return result.sort(
    (a, b) =>
      String(a.operation).localeCompare(String(b.operation)) ||
      Date.parse(a.time) - Date.parse(b.time) ||
      String(a.manager).localeCompare(String(b.manager)) ||
      String(a.subresource ?? '').localeCompare(String(b.subresource ?? '')),
  );
}
