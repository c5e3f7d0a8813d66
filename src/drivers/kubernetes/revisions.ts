import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';

const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const HASH_LABEL = 'pod-template-hash';
/**
 * Annotations that describe the Deployment itself, never copied from a ReplicaSet (as in kubectl's rollback), plus
 * Argo CD's tracking id: an old ReplicaSet may predate it, and dropping it would hide from Argo CD, and from the
 * bot's own GitOps detection, which Application manages the Deployment.
 */
const SKIPPED_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'argocd.argoproj.io/tracking-id',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export interface Revision {
  revision: number;
  replicaSet: V1ReplicaSet;
  template: V1PodTemplateSpec;
  images: string[];
}

export function revisionOf(object: { metadata?: { annotations?: Record<string, string> } }): number {
  const value = Number(object.metadata?.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

function imagesOf(template: V1PodTemplateSpec | undefined): string[] {
  return (template?.spec?.containers ?? []).map((c) => c.image ?? '?');
}

/** The ReplicaSets a Deployment owns, newest revision first. */
export function revisionsOf(deployment: V1Deployment, replicaSets: V1ReplicaSet[]): Revision[] {
  const uid = deployment.metadata?.uid;
  return replicaSets
    .filter((rs) =>
      rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && (uid === undefined || o.uid === uid)),
    )
    .map((rs) => ({
      revision: revisionOf(rs),
      replicaSet: rs,
      template: rs.spec?.template ?? {},
      images: imagesOf(rs.spec?.template),
    }))
    .filter((r) => r.revision > 0)
    .sort((a, b) => b.revision - a.revision);
}

function withoutHash(template: V1PodTemplateSpec | undefined): unknown {
  const copy = structuredClone(template ?? {});
  if (copy.metadata?.labels) delete copy.metadata.labels[HASH_LABEL];
  return normalise(copy);
}

/** JSON with sorted keys and no undefined, so two templates compare by content. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, normalise(v)]),
    );
  }
  return value;
}

export function sameTemplate(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  return JSON.stringify(withoutHash(a)) === JSON.stringify(withoutHash(b));
}

/** The revision whose template the Deployment runs now. */
export function currentRevision(deployment: V1Deployment, revisions: Revision[]): Revision | undefined {
  return (
    revisions.find((r) => sameTemplate(r.template, deployment.spec?.template)) ??
    revisions.find((r) => r.revision === revisionOf(deployment))
  );
}

export const REVISION_PATH = `/metadata/annotations/${REVISION_ANNOTATION.replace('/', '~1')}`;
export const RESOURCE_VERSION_PATH = '/metadata/resourceVersion';

/**
 * What `kubectl rollout undo` sends: the ReplicaSet's template without its hash label, and the
 * Deployment's annotations merged with the ReplicaSet's (kubectl pkg/polymorphichelpers/rollback.go).
 * The `test` operations make the patch fail if the Deployment moved since the plan (its revision) and,
 * with `resourceVersion`, if anything at all was written to it since the read that decided the rollback:
 * a new template is stored at once but gets its revision only when the controller observes it.
 */
export function undoPatch(
  deployment: V1Deployment,
  target: Revision,
  expectedRevision: number,
  resourceVersion?: string,
) {
  const template = structuredClone(target.template);
  if (template.metadata?.labels) delete template.metadata.labels[HASH_LABEL];
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(deployment.metadata?.annotations ?? {}))
    if (SKIPPED_ANNOTATIONS.has(key)) annotations[key] = value;
  for (const [key, value] of Object.entries(target.replicaSet.metadata?.annotations ?? {}))
    if (!SKIPPED_ANNOTATIONS.has(key)) annotations[key] = value;
  return [
    ...(resourceVersion ? [{ op: 'test' as const, path: RESOURCE_VERSION_PATH, value: resourceVersion }] : []),
    { op: 'test' as const, path: REVISION_PATH, value: String(expectedRevision) },
    { op: 'replace' as const, path: '/spec/template', value: template },
    { op: 'replace' as const, path: '/metadata/annotations', value: annotations },
  ];
}
