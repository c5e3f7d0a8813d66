/**
 * The simulator's etcd: every object by resource, namespace and name, one resourceVersion counter for
 * the whole cluster, and a bounded event log so a watch from resourceVersion N replays what came after.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ApiError } from './api-error.js';
import { validateCustomResource } from './custom-resources.js';
import { applyDefaults } from './defaults.js';
import { type FieldManagerWrite, nextManagedFields } from './managed-fields.js';
import { groupVersion, type ResourceType, typeOf } from './resources.js';

// Kubernetes objects are open-ended JSON; inside the simulator they are handled as such.
// biome-ignore lint/suspicious/noExplicitAny: the simulator stores any Kubernetes object as the API server's JSON
export type KubeObject = Record<string, any>;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resource: string;
  object: KubeObject;
  resourceVersion: number;
}

type Listener = (event: StoreEvent) => void;

const EVENT_LOG_SIZE = 5000;

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * Go decodes `null` into a zero value and omits it again on output, so to the API server
 * `creationTimestamp: null` (which kubectl sends back inside pod templates) is no field at all.
 */
function stripNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripNulls) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== null) out[k] = stripNulls(v);
  }
  return out as T;
}

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class ObjectStore {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly log: StoreEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private revision = 1000;

  get resourceVersion(): number {
    return this.revision;
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumable(): number {
    return this.log[0] ? this.log[0].resourceVersion - 1 : this.revision;
  }

  eventsSince(resourceVersion: number): StoreEvent[] {
    return this.log.filter((e) => e.resourceVersion > resourceVersion);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.bucket(resource).get(key(namespace, name));
    return found ? clone(found) : undefined;
  }

  mustGet(resource: string, namespace: string | undefined, name: string): KubeObject {
    const found = this.get(resource, namespace, name);
    if (!found) throw ApiError.notFound(typeOf(resource), name);
    return found;
  }

  list(resource: string, namespace?: string): KubeObject[] {
    const items = [...this.bucket(resource).values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .map(clone);
    return items.sort((a, b) =>
      `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
      ),
    );
  }

  /** `manager`: who writes, for metadata.managedFields (API requests and the GitOps controllers pass one). */
  create(
    resource: string,
    input: KubeObject,
    options: { dryRun?: boolean; keepStatus?: boolean; manager?: FieldManagerWrite } = {},
  ): KubeObject {
    const type = typeOf(resource);
    const object = stripNulls(clone(input));
    object.apiVersion = groupVersion(type);
    object.kind = type.kind;
    object.metadata ??= {};
    const meta = object.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name)
      throw new ApiError(
        422,
        'Invalid',
        `${type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
      );
    if (type.namespaced) {
      if (!meta.namespace)
        throw ApiError.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      if (!this.get('namespaces', undefined, meta.namespace)) {
        throw ApiError.notFound(typeOf('namespaces'), meta.namespace);
      }
    } else {
      delete meta.namespace;
    }
    if (this.bucket(resource).has(key(meta.namespace, meta.name))) throw ApiError.alreadyExists(type, meta.name);
    delete meta.resourceVersion;
    meta.uid = randomUUID();
    meta.creationTimestamp = nowIso();
    if (type.tracksGeneration) meta.generation = 1;
    // Clients cannot set status on create; the simulator's own controllers can.
    if (type.hasStatus && !options.keepStatus) delete object.status;
    applyDefaults(resource, object);
    if (type.custom) validateCustomResource(type, object);
    if (options.manager) {
      const managedFields = nextManagedFields(type, undefined, object, options.manager, nowIso());
      if (managedFields.length) object.metadata.managedFields = managedFields;
    }
    if (options.dryRun) return object;
    return this.commit('ADDED', resource, object);
  }

  /**
   * Replaces an object. `subresource: 'status'` keeps everything but status; the main resource keeps
   * status. A resourceVersion in the body must match (optimistic concurrency); none means unconditional.
   */
  update(
    resource: string,
    input: KubeObject,
    options: { subresource?: 'status'; dryRun?: boolean; manager?: FieldManagerWrite } = {},
  ): KubeObject {
    const type = typeOf(resource);
    const meta = input.metadata ?? {};
    const namespace = type.namespaced ? meta.namespace : undefined;
    const existing = this.bucket(resource).get(key(namespace, meta.name));
    if (!existing) throw ApiError.notFound(type, meta.name);
    if (meta.resourceVersion && meta.resourceVersion !== existing.metadata.resourceVersion) {
      throw ApiError.conflict(type, meta.name);
    }
    let object: KubeObject;
    if (options.subresource === 'status') {
      object = clone(existing);
      object.status = stripNulls(clone(input.status));
    } else {
      object = stripNulls(clone(input));
      object.apiVersion = groupVersion(type);
      object.kind = type.kind;
      // Fields the server owns survive a client's PUT.
      object.metadata = {
        ...clone(meta),
        name: existing.metadata.name,
        uid: existing.metadata.uid,
        creationTimestamp: existing.metadata.creationTimestamp,
        ...(existing.metadata.deletionTimestamp ? { deletionTimestamp: existing.metadata.deletionTimestamp } : {}),
      };
      if (type.namespaced) object.metadata.namespace = existing.metadata.namespace;
      else delete object.metadata.namespace;
      if (type.tracksGeneration) object.metadata.generation = existing.metadata.generation;
      if (type.hasStatus) object.status = clone(existing.status);
      // The server owns managedFields: what a client sends back is not taken as is.
      if (options.manager) {
        if (existing.metadata.managedFields) object.metadata.managedFields = clone(existing.metadata.managedFields);
        else delete object.metadata.managedFields;
      }
      applyDefaults(resource, object);
      if (type.tracksGeneration && generationChanged(type, object, existing)) {
        object.metadata.generation = (existing.metadata.generation ?? 0) + 1;
      }
    }
    if (type.custom) validateCustomResource(type, object);
    if (options.manager) {
      object.metadata.managedFields = nextManagedFields(type, existing, object, options.manager, nowIso());
      if (!object.metadata.managedFields.length) delete object.metadata.managedFields;
    }
    // A write that changes nothing (a new time on a managedFields entry aside) is no write: same resourceVersion.
    if (isDeepStrictEqual(stripVersion(object, true), stripVersion(existing, true))) return clone(existing);
    if (options.dryRun) return object;
    return this.commit('MODIFIED', resource, object);
  }

  delete(
    resource: string,
    namespace: string | undefined,
    name: string,
    options: { dryRun?: boolean } = {},
  ): KubeObject {
    const type = typeOf(resource);
    const ns = type.namespaced ? namespace : undefined;
    const existing = this.bucket(resource).get(key(ns, name));
    if (!existing) throw ApiError.notFound(type, name);
    if (options.dryRun) return clone(existing);
    this.bucket(resource).delete(key(ns, name));
    const object = clone(existing);
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    this.emit({ type: 'DELETED', resource, object, resourceVersion: this.revision });
    return clone(object);
  }

  private commit(type: WatchEventType, resource: string, object: KubeObject): KubeObject {
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    const meta = object.metadata;
    this.bucket(resource).set(key(typeOf(resource).namespaced ? meta.namespace : undefined, meta.name), object);
    this.emit({ type, resource, object: clone(object), resourceVersion: this.revision });
    return clone(object);
  }

  private emit(event: StoreEvent): void {
    this.log.push(event);
    if (this.log.length > EVENT_LOG_SIZE) this.log.shift();
    for (const listener of [...this.listeners]) listener(event);
  }

  private bucket(resource: string): Map<string, KubeObject> {
    let bucket = this.objects.get(resource);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/**
 * Built-in kinds bump metadata.generation when the spec changes. A custom resource bumps it on any change
 * but to metadata, and to status too when status is a subresource (apiextensions-apiserver strategy.go).
 */
function generationChanged(type: ResourceType, object: KubeObject, existing: KubeObject): boolean {
  if (!type.custom) return !isDeepStrictEqual(object.spec, existing.spec);
  const content = (o: KubeObject): KubeObject => {
    const { metadata: _metadata, status, ...rest } = o;
    return type.hasStatus ? rest : { ...rest, status };
  };
  return !isDeepStrictEqual(content(object), content(existing));
}

function stripVersion(object: KubeObject, withoutManagedFieldsTimes = false): KubeObject {
  const copy = clone(object);
  delete copy.metadata.resourceVersion;
  if (withoutManagedFieldsTimes) for (const entry of copy.metadata.managedFields ?? []) delete entry.time;
  return copy;
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five characters from the alphabet the API server uses for generateName. */
export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += SAFE_ALPHABET[Math.floor(Math.random() * SAFE_ALPHABET.length)];
  return out;
}

export { SAFE_ALPHABET };
