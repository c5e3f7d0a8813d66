/**
 * A skeletal OpenAPI v3 (`/openapi/v3` and `/openapi/v3/<gv>`). `kubectl apply` reads it to learn that
 * PATCH takes `fieldValidation` (cli-runtime's queryParamVerifierV3); without it kubectl falls back to
 * client-side validation, which needs the full schema, and refuses to apply. Paths and their operations
 * are real; component schemas are left out, so kubectl computes strategic merge patches from its
 * compiled-in types, which is what it does for any schema it cannot read.
 */
import { createHash } from 'node:crypto';
import { RESOURCE_TYPES, type ResourceType } from './resources.js';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const hashOf = (types: ResourceType[]): string =>
  createHash('sha512').update(JSON.stringify(types)).digest('hex').slice(0, 128).toUpperCase();

/** `types`: what is served, the built-in kinds plus the custom resources whose CRDs are installed. */
export function openApiRoot(types: ResourceType[] = RESOURCE_TYPES): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const type of types) {
    const gv = gvPath(type.group, type.version);
    const hash = hashOf(types.filter((t) => gvPath(t.group, t.version) === gv));
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
  }
  return { paths };
}

const queryParam = (name: string, description: string) => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string', uniqueItems: true },
});

const WRITE_PARAMS = [
  queryParam('dryRun', 'When present, indicates that modifications should not be persisted.'),
  queryParam(
    'fieldManager',
    'fieldManager is a name associated with the actor or entity that is making these changes.',
  ),
  queryParam(
    'fieldValidation',
    'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
  ),
];

function operations(type: ResourceType, item: boolean): Record<string, unknown> {
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const op = (action: string, verb: string, params: unknown[] = []) => ({
    description: `${verb} ${item ? 'the specified' : 'objects of kind'} ${type.kind}`,
    operationId: `${verb}${type.kind}`,
    parameters: params,
    responses: { '200': { description: 'OK' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  });
  if (!item) {
    return { get: op('list', 'list'), post: op('post', 'create', WRITE_PARAMS) };
  }
  return {
    get: op('get', 'read'),
    put: op('put', 'replace', WRITE_PARAMS),
    patch: op('patch', 'patch', [...WRITE_PARAMS, queryParam('force', 'Force is going to "force" Apply requests.')]),
    delete: op('delete', 'delete', [
      queryParam('dryRun', 'When present, indicates that modifications should not be persisted.'),
    ]),
  };
}

/** The OpenAPI v3 document of one group version (`api/v1`, `apis/apps/v1`), or undefined. */
export function openApiGroupVersion(
  gvPathname: string,
  served: ResourceType[] = RESOURCE_TYPES,
): Record<string, unknown> | undefined {
  const types = served.filter((t) => gvPath(t.group, t.version) === gvPathname);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const type of types) {
    const base = `/${gvPathname}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.name}`;
    paths[base] = operations(type, false);
    paths[`${base}/{name}`] = operations(type, true);
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.33.0' },
    paths,
    components: { schemas: {} },
  };
}
