/**
 * HTTP routing for the simulated API server: discovery, CRUD with the three patch types plus apply,
 * the status and scale subresources, watch, Table output for `kubectl get`, and pod deletion through
 * the kubelet's graceful termination. Every request body may be JSON, YAML (apply) or protobuf.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError } from './api-error.js';
import type { DeploymentController } from './deployment-controller.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
import { type FieldManagerWrite, managerOf } from './managed-fields.js';
import { clone, type KubeObject, type ObjectStore } from './object-store.js';
import { applyJsonPatch, applyMergePatch, applyServerSideApply, applyStrategicMergePatch } from './patch.js';
import { decodeProtobuf, isProtobuf } from './protobuf.js';
import { findType, groupVersion, RESOURCE_TYPES, type ResourceType } from './resources.js';
import { labelSelectorString, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { toTable, wantsTable } from './tables.js';
import { serveWatch } from './watch.js';

export interface Route {
  group: string;
  version: string;
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface ApiContext {
  store: ObjectStore;
  controller: DeploymentController;
  serverAddress: string;
  trackWatch: (stop: () => void) => () => void;
  /** What is served: the built-in kinds plus the custom resources whose CRDs are installed. */
  types?: ResourceType[];
}

type Reply = { status: number; body: unknown };

/**
 * Parses an API path into group/version/resource/namespace/name/subresource; undefined if not one.
 * `types`: what is served (built-ins plus installed custom resources).
 */
export function parseRoute(pathname: string, types: ResourceType[] = RESOURCE_TYPES): Route | undefined | 'discovery' {
  const parts = pathname.split('/').filter(Boolean);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    group = '';
    version = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    group = parts[1] ?? '';
    version = parts[2] ?? '';
    rest = parts.slice(3);
  } else return undefined;
  if (!version || rest.length === 0) return 'discovery';
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const type = findType(group, version, rest[2] as string, types);
    if (type?.namespaced) {
      return {
        group,
        version,
        type,
        namespace: rest[1],
        ...(rest[3] ? { name: rest[3] } : {}),
        ...(rest[4] ? { subresource: rest[4] } : {}),
      };
    }
  }
  const type = findType(group, version, rest[0] as string, types);
  if (!type) return undefined;
  return { group, version, type, ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { subresource: rest[2] } : {}) };
}

export function discovery(pathname: string, serverAddress: string, types: ResourceType[] = RESOURCE_TYPES): unknown {
  const parts = pathname.split('/').filter(Boolean);
  if (pathname === '/version' || pathname === '/version/') return SERVER_VERSION;
  if (parts.length === 1 && parts[0] === 'api') return apiVersions(serverAddress);
  if (parts.length === 1 && parts[0] === 'apis') return apiGroupList(types);
  if (parts[0] === 'api' && parts.length === 2) return apiResourceList('', parts[1] as string, types);
  if (parts[0] === 'apis' && parts.length === 2 && types.some((t) => t.group === parts[1])) {
    return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(parts[1] as string, types) };
  }
  if (parts[0] === 'apis' && parts.length === 3) return apiResourceList(parts[1] as string, parts[2] as string, types);
  return undefined;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function decodeBody(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  if (isProtobuf(contentType)) return decodeProtobuf(body);
  const text = body.toString('utf8');
  try {
    if (/yaml/.test(contentType ?? '')) return parseYaml(text);
    return JSON.parse(text);
  } catch (error) {
    throw ApiError.badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

/** Handles one request against a resource route. Watches write their own response and return undefined. */
export async function handleResource(
  ctx: ApiContext,
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  rawBody: Buffer,
): Promise<Reply | undefined> {
  const { store } = ctx;
  const { type, namespace, name, subresource } = route;
  const method = req.method ?? 'GET';
  const contentType = req.headers['content-type'];
  const dryRun = query.get('dryRun') === 'All';
  const writer = (operation: FieldManagerWrite['operation'], applied?: KubeObject): FieldManagerWrite => ({
    manager: managerOf(query.get('fieldManager'), req.headers['user-agent']),
    operation,
    ...(subresource === 'status' ? { subresource: 'status' as const } : {}),
    ...(applied ? { applied } : {}),
  });
  if (namespace && type.name !== 'namespaces' && !store.get('namespaces', undefined, namespace) && method === 'POST') {
    throw ApiError.notFound(findType('', 'v1', 'namespaces') as ResourceType, namespace);
  }

  if (!name) {
    if (method === 'GET') {
      const labels = parseLabelSelector(query.get('labelSelector') ?? undefined);
      const fields = parseFieldSelector(query.get('fieldSelector') ?? undefined);
      const matches = (o: KubeObject) => labels(o.metadata.labels) && fields(o);
      if (query.get('watch') === 'true' || query.get('watch') === '1') {
        const includeObject = query.get('includeObject') ?? undefined;
        const render = wantsTable(String(req.headers.accept ?? ''))
          ? (o: KubeObject) => toTable(type, [o], includeObject)
          : undefined;
        serveWatch(store, { type, namespace, matches, query, ...(render ? { render } : {}) }, res, ctx.trackWatch);
        return undefined;
      }
      const items = store.list(type.name, namespace).filter(matches);
      const resourceVersion = String(store.resourceVersion);
      if (wantsTable(String(req.headers.accept ?? ''))) {
        return { status: 200, body: toTable(type, items, query.get('includeObject') ?? undefined, resourceVersion) };
      }
      // Items of a typed list carry no kind/apiVersion of their own; a custom resource list's (unstructured) do.
      for (const item of type.custom ? [] : items) {
        delete item.kind;
        delete item.apiVersion;
      }
      return {
        status: 200,
        body: { kind: `${type.kind}List`, apiVersion: groupVersion(type), metadata: { resourceVersion }, items },
      };
    }
    if (method === 'POST') {
      const body = decodeBody(rawBody, contentType) as KubeObject | undefined;
      if (!body || typeof body !== 'object') throw ApiError.badRequest('a create needs an object body');
      checkKind(type, body);
      body.metadata ??= {};
      if (type.namespaced) {
        if (body.metadata.namespace && body.metadata.namespace !== namespace) {
          throw ApiError.badRequest(
            'the namespace of the provided object does not match the namespace sent on the request',
          );
        }
        body.metadata.namespace = namespace;
      }
      return { status: 201, body: store.create(type.name, body, { dryRun, manager: writer('Update') }) };
    }
    throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }

  if (subresource === 'scale') return handleScale(ctx, route, method, contentType, rawBody, dryRun);
  if (subresource === 'log' && type.name === 'pods') {
    store.mustGet('pods', namespace, name);
    return { status: 200, body: '' };
  }
  if (subresource && subresource !== 'status') {
    throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
  }
  if (subresource === 'status' && !type.hasStatus)
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');

  switch (method) {
    case 'GET': {
      const object = store.mustGet(type.name, namespace, name);
      if (wantsTable(String(req.headers.accept ?? ''))) {
        return { status: 200, body: toTable(type, [object], query.get('includeObject') ?? undefined) };
      }
      return { status: 200, body: object };
    }
    case 'PUT': {
      const body = decodeBody(rawBody, contentType) as KubeObject | undefined;
      if (!body || typeof body !== 'object') throw ApiError.badRequest('an update needs an object body');
      checkKind(type, body);
      body.metadata ??= {};
      if (body.metadata.name && body.metadata.name !== name) {
        throw ApiError.badRequest(
          `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
        );
      }
      body.metadata.name = name;
      if (type.namespaced) body.metadata.namespace = namespace;
      const updated = store.update(type.name, body, {
        dryRun,
        ...(subresource === 'status' ? { subresource: 'status' as const } : {}),
        manager: writer('Update'),
      });
      return { status: 200, body: updated };
    }
    case 'PATCH': {
      const patchType =
        String(contentType ?? '')
          .split(';')[0]
          ?.trim() ?? '';
      const patch = decodeBody(rawBody, patchType.includes('yaml') ? 'application/yaml' : 'application/json');
      const existing = store.get(type.name, namespace, name);
      if (patchType === 'application/apply-patch+yaml' || patchType === 'application/apply-patch+cbor') {
        const applied = patch as KubeObject;
        checkKind(type, applied);
        if (!existing) {
          applied.metadata = { ...(applied.metadata ?? {}), name, ...(type.namespaced ? { namespace } : {}) };
          return { status: 201, body: store.create(type.name, applied, { dryRun, manager: writer('Apply', applied) }) };
        }
        const merged = applyServerSideApply(existing, applied);
        return { status: 200, body: store.update(type.name, merged, { dryRun, manager: writer('Apply', applied) }) };
      }
      // A custom resource has no patch strategy: the API server refuses strategic merge for it, before it
      // looks the object up (apiextensions-apiserver customresource_handler.go, supportedTypes).
      if (type.custom && patchType !== 'application/json-patch+json' && patchType !== 'application/merge-patch+json') {
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
        );
      }
      if (!existing) throw ApiError.notFound(type, name);
      let patched: KubeObject;
      switch (patchType) {
        case 'application/json-patch+json':
          patched = applyJsonPatch(existing, patch);
          break;
        case 'application/merge-patch+json':
          patched = applyMergePatch(existing, patch) as KubeObject;
          break;
        case 'application/strategic-merge-patch+json':
          patched = applyStrategicMergePatch(existing, patch);
          break;
        default:
          throw new ApiError(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
          );
      }
      patched.metadata = { ...patched.metadata, name, ...(type.namespaced ? { namespace } : {}) };
      const updated = store.update(type.name, patched, {
        dryRun,
        ...(subresource === 'status' ? { subresource: 'status' as const } : {}),
        manager: writer('Update'),
      });
      return { status: 200, body: updated };
    }
    case 'DELETE': {
      const options = decodeBody(rawBody, contentType) as KubeObject | undefined;
      const grace = query.get('gracePeriodSeconds') ?? options?.gracePeriodSeconds;
      if (type.name === 'pods' && !dryRun) {
        return {
          status: 200,
          body: ctx.controller.terminatePod(namespace as string, name, grace === undefined ? undefined : Number(grace)),
        };
      }
      const deleted = store.delete(type.name, namespace, name, { dryRun });
      return {
        status: 200,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, group: type.group, kind: type.name, uid: deleted.metadata.uid },
        },
      };
    }
    default:
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }
}

function checkKind(type: ResourceType, body: KubeObject): void {
  if (body.kind && body.kind !== type.kind) {
    throw ApiError.badRequest(
      `the kind of the provided object (${body.kind}) does not match the resource (${type.kind})`,
    );
  }
}

/** autoscaling/v1 Scale for deployments and replicasets (kubectl scale). */
function handleScale(
  ctx: ApiContext,
  route: Route,
  method: string,
  contentType: string | undefined,
  rawBody: Buffer,
  dryRun: boolean,
): Reply {
  const { store } = ctx;
  const { type, namespace, name } = route as Required<Pick<Route, 'type' | 'name'>> & Route;
  const object = store.mustGet(type.name, namespace, name);
  const scale = (o: KubeObject): KubeObject => ({
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: o.spec.replicas },
    status: { replicas: o.status?.replicas ?? 0, selector: labelSelectorString(o.spec.selector) },
  });
  if (method === 'GET') return { status: 200, body: scale(object) };
  let wanted: KubeObject;
  const body = decodeBody(
    rawBody,
    String(contentType ?? '').includes('yaml') ? 'application/yaml' : 'application/json',
  );
  if (method === 'PUT') wanted = body as KubeObject;
  else if (method === 'PATCH') {
    const patchType = String(contentType ?? '')
      .split(';')[0]
      ?.trim();
    wanted =
      patchType === 'application/json-patch+json'
        ? applyJsonPatch(scale(object), body)
        : (applyMergePatch(scale(object), body) as KubeObject);
  } else throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const replicas = Number(wanted.spec?.replicas);
  if (!Number.isInteger(replicas) || replicas < 0) throw ApiError.invalid(type, name, 'spec.replicas: Invalid value');
  const updated = clone(object);
  updated.spec.replicas = replicas;
  if (wanted.metadata?.resourceVersion) updated.metadata.resourceVersion = wanted.metadata.resourceVersion;
  return { status: 200, body: scale(store.update(type.name, updated, { dryRun })) };
}
