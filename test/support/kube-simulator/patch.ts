/**
 * The three PATCH types the API server accepts for built-in kinds: RFC 6902 JSON patch (kubectl rollout
 * undo), RFC 7386 merge patch, and strategic merge patch (kubectl apply, helm's three-way merge), plus a
 * simplified server-side apply. Strategic merge follows k8s.io/apimachinery/pkg/util/strategicpatch for
 * the directives clients emit ($patch, $retainKeys, $setElementOrder, $deleteFromPrimitiveList) and the
 * merge keys of the core and apps types the simulator serves.
 */
import { ApiError } from './api-error.js';
import { clone, type KubeObject } from './object-store.js';

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---- RFC 6902 -------------------------------------------------------------------------------------

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

/**
 * How the API server answers a JSON patch that does not apply (a failed `test`, a missing path): 422
 * Invalid with a fixed message and empty details. It drops json-patch's own words ("testing value … failed"),
 * so kubectl prints only "The request is invalid: the server rejected our request due to an error in our
 * request" (k8s.io/apiserver endpoints/handlers/patch.go applyJSPatch, NewGenericServerResponse).
 * `reasonNotSent` keeps json-patch's words for the simulator's own debugging.
 */
class JsonPatchFailed extends ApiError {
  constructor(readonly reasonNotSent: string) {
    super(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
  }
}

export function applyJsonPatch(target: KubeObject, ops: unknown): KubeObject {
  if (!Array.isArray(ops)) throw ApiError.badRequest('the body of a json patch must be a JSON array of operations');
  let doc: Json = clone(target);
  for (const op of ops as JsonPatchOp[]) {
    switch (op.op) {
      case 'add':
        doc = pointerSet(doc, op.path, clone(op.value), 'add');
        break;
      case 'replace':
        doc = pointerSet(doc, op.path, clone(op.value), 'replace');
        break;
      case 'remove':
        doc = pointerRemove(doc, op.path);
        break;
      case 'move': {
        const value = pointerGet(doc, op.from ?? '');
        doc = pointerRemove(doc, op.from ?? '');
        doc = pointerSet(doc, op.path, value, 'add');
        break;
      }
      case 'copy':
        doc = pointerSet(doc, op.path, clone(pointerGet(doc, op.from ?? '')), 'add');
        break;
      case 'test':
        if (JSON.stringify(pointerGet(doc, op.path)) !== JSON.stringify(op.value)) {
          throw new JsonPatchFailed(`testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw ApiError.badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  if (!isObject(doc)) throw ApiError.badRequest('json patch replaced the whole object with a non-object');
  return doc;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw ApiError.badRequest(`JSON pointer must start with /: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pointerGet(doc: Json, pointer: string): Json {
  let node: Json = doc;
  for (const token of tokens(pointer)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else node = undefined;
    if (node === undefined) throw new JsonPatchFailed(`missing value at ${pointer}`);
  }
  return node;
}

function pointerSet(doc: Json, pointer: string, value: Json, mode: 'add' | 'replace'): Json {
  const path = tokens(pointer);
  if (path.length === 0) return value;
  const parent = pointerGet(doc, `/${path.slice(0, -1).map(escapeToken).join('/')}`.replace(/^\/$/, ''));
  const last = path[path.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length)
      throw ApiError.badRequest(`invalid array index ${last}`);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) {
    if (mode === 'replace' && !(last in parent)) {
      throw new JsonPatchFailed(`replace operation does not apply: doc is missing key: ${pointer}`);
    }
    parent[last] = value;
  } else throw new JsonPatchFailed(`doc is missing path: ${pointer}`);
  return doc;
}

function pointerRemove(doc: Json, pointer: string): Json {
  const path = tokens(pointer);
  const parent = pointerGet(doc, `/${path.slice(0, -1).map(escapeToken).join('/')}`.replace(/^\/$/, ''));
  const last = path[path.length - 1] as string;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) {
    if (!(last in parent))
      throw new JsonPatchFailed(`remove operation does not apply: doc is missing path: ${pointer}`);
    delete parent[last];
  }
  return doc;
}

function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

// ---- RFC 7386 -------------------------------------------------------------------------------------

export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: Record<string, Json> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = applyMergePatch(result[k], v);
  }
  return result;
}

// ---- strategic merge patch ----------------------------------------------------------------------------

/**
 * Merge keys by field name, from the `patchMergeKey` tags of k8s.io/api. `ports` is a container's
 * port list inside a pod spec and a Service's elsewhere; `primitive` lists merge as sets.
 */
const MERGE_KEYS: Record<string, string | 'primitive'> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  volumes: 'name',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  resourceClaims: 'name',
  topologySpreadConstraints: 'topologyKey',
  finalizers: 'primitive',
};

function mergeKeyFor(field: string, path: string[]): string | undefined {
  if (field === 'ports')
    return path.includes('containers') || path.includes('initContainers') ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

export function applyStrategicMergePatch(target: KubeObject, patch: Json): KubeObject {
  if (!isObject(patch)) throw ApiError.badRequest('strategic merge patch body must be a JSON object');
  const result = mergeMap(clone(target), patch, []);
  if (!isObject(result)) throw ApiError.badRequest('strategic merge patch deleted the whole object');
  return result;
}

function mergeMap(original: Json, patch: Record<string, Json>, path: string[]): Json {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  const base: Record<string, Json> = isObject(original) && directive !== 'replace' ? original : {};
  if (directive === 'replace') {
    const replaced = clone(patch);
    delete replaced.$patch;
    return stripDirectives(replaced);
  }
  const retainKeys = patch.$retainKeys;
  if (Array.isArray(retainKeys)) {
    for (const k of Object.keys(base)) if (!retainKeys.includes(k)) delete base[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const current = base[field];
      if (Array.isArray(current) && Array.isArray(v)) base[field] = current.filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete base[k];
      continue;
    }
    const childPath = [...path, k];
    if (isObject(v)) {
      const merged = mergeMap(base[k], v, childPath);
      if (merged === undefined) delete base[k];
      else base[k] = merged;
    } else if (Array.isArray(v)) {
      base[k] = mergeList(base[k], v, k, childPath);
    } else base[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/')) continue;
    const field = k.slice('$setElementOrder/'.length);
    const list = base[field];
    if (Array.isArray(list) && Array.isArray(v)) base[field] = reorder(list, v, mergeKeyFor(field, path));
  }
  return base;
}

function mergeList(original: Json, patch: Json[], field: string, path: string[]): Json[] {
  const mergeKey = mergeKeyFor(field, path);
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item.$patch === 'replace')).map((i) => stripDirectives(clone(i)));
  }
  if (!mergeKey) return patch.map((item) => stripDirectives(clone(item)));
  const current = Array.isArray(original) ? clone(original) : [];
  if (mergeKey === 'primitive') {
    for (const item of patch) if (!current.includes(item)) current.push(item);
    return current;
  }
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = current.findIndex((c) => isObject(c) && c[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) current.splice(index, 1);
      continue;
    }
    if (index >= 0) current[index] = mergeMap(current[index], item, path);
    else current.push(stripDirectives(clone(item)));
  }
  return current;
}

function reorder(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const keyOf = (item: Json): Json => (mergeKey && mergeKey !== 'primitive' && isObject(item) ? item[mergeKey] : item);
  const wanted = order.map(keyOf);
  const inOrder = wanted.flatMap((k) => list.filter((item) => keyOf(item) === k));
  const rest = list.filter((item) => !wanted.includes(keyOf(item)));
  return [...inOrder, ...rest];
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

/**
 * Server-side apply, simplified: the applied configuration is merged into the live object with the
 * strategic-merge rules. Field ownership, conflicts and removal of fields the applier stopped setting
 * are not modelled.
 */
export function applyServerSideApply(target: KubeObject | undefined, applied: KubeObject): KubeObject {
  const body = clone(applied);
  delete body.metadata?.managedFields;
  if (!target) return body;
  return applyStrategicMergePatch(target, body);
}
