import { ApiException, type V1ObjectMeta } from '@kubernetes/client-node';
import { z } from 'zod';
import { abortReason } from '../../core/abortable.js';
import { isRollbackError } from '../../core/errors.js';
import type { CustomObjectRef, KubeApi } from './kube-api.js';

/*
 * Which GitOps controller manages a workload, and what it would do after a rollback. Argo CD and Flux put the
 * cluster back to what git says: a rollback holds only while they are off or suspended.
 */

export type GitOpsKind = 'Application' | 'Kustomization' | 'HelmRelease';

/** An Argo CD Application or Flux object that a workload names as its manager. */
export interface GitOpsOwner {
  kind: GitOpsKind;
  name: string;
  namespace: string;
  /**
   * Named by Argo CD's tracking annotation or Flux's owner labels. False for Argo CD's label tracking
   * (`app.kubernetes.io/instance`), which Helm charts set too: such an owner counts only if its Application exists.
   */
  certain: boolean;
  /** The workload that names it, for people: "deployment/web". */
  seenOn: string;
}

const API: Record<GitOpsKind, Omit<CustomObjectRef, 'namespace' | 'name'>> = {
  Application: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' },
  Kustomization: { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations' },
  HelmRelease: { group: 'helm.toolkit.fluxcd.io', version: 'v2', plural: 'helmreleases' },
};

const TRACKING_ID = 'argocd.argoproj.io/tracking-id';
const INSTANCE_LABEL = 'app.kubernetes.io/instance';
const FLUX_LABELS: Array<[Exclude<GitOpsKind, 'Application'>, string]> = [
  ['Kustomization', 'kustomize.toolkit.fluxcd.io'],
  ['HelmRelease', 'helm.toolkit.fluxcd.io'],
];

export function refOf(owner: Pick<GitOpsOwner, 'kind' | 'name' | 'namespace'>): CustomObjectRef {
  return { ...API[owner.kind], namespace: owner.namespace, name: owner.name };
}

/** "applications.argoproj.io": what RBAC rules and kubectl call the resource. */
export function resourceOf(kind: GitOpsKind): string {
  return `${API[kind].plural}.${API[kind].group}`;
}

/** For people: "Argo CD application web (namespace argocd)", "Flux Kustomization apps (namespace flux-system)". */
export function ownerName(owner: Pick<GitOpsOwner, 'kind' | 'name' | 'namespace'>): string {
  const what = owner.kind === 'Application' ? 'Argo CD application' : `Flux ${owner.kind}`;
  return `${what} ${owner.name} (namespace ${owner.namespace})`;
}

/** An Argo CD application id: `<app>` in the control-plane namespace, `<namespace>_<app>` outside it. */
function argoApp(id: string, argocdNamespace: string): { name: string; namespace: string } | undefined {
  const [first, second] = id.split('_', 2);
  if (!first) return undefined;
  return second === undefined ? { name: first, namespace: argocdNamespace } : { name: second, namespace: first };
}

/**
 * The GitOps objects a workload's metadata names: Argo CD's tracking annotation
 * (`<app>:<group>/<Kind>:<namespace>/<name>`, counted only when it describes this very workload, as Argo CD
 * does for copied manifests) or its tracking label, and Flux's `<group>/name` and `<group>/namespace` labels.
 */
export function ownersOf(
  metadata: V1ObjectMeta | undefined,
  workload: { group: string; kind: string; namespace: string; name: string },
  argocdNamespace: string,
): GitOpsOwner[] {
  const seenOn = `${workload.kind.toLowerCase()}/${workload.name}`;
  const owners: GitOpsOwner[] = [];
  const labels = metadata?.labels ?? {};
  const tracking = metadata?.annotations?.[TRACKING_ID];
  const self = `${workload.group}/${workload.kind}:${workload.namespace}/${workload.name}`;
  if (tracking) {
    const separator = tracking.indexOf(':');
    const app = separator > 0 ? argoApp(tracking.slice(0, separator), argocdNamespace) : undefined;
    if (app && tracking.slice(separator + 1) === self)
      owners.push({ kind: 'Application', ...app, certain: true, seenOn });
  } else if (labels[INSTANCE_LABEL]) {
    const app = argoApp(labels[INSTANCE_LABEL], argocdNamespace);
    if (app) owners.push({ kind: 'Application', ...app, certain: false, seenOn });
  }
  for (const [kind, group] of FLUX_LABELS) {
    const name = labels[`${group}/name`];
    const namespace = labels[`${group}/namespace`];
    if (name && namespace) owners.push({ kind, name, namespace, certain: true, seenOn });
  }
  return owners;
}

/** The same owners once each, as several workloads of one release name them. */
export function distinctOwners(owners: GitOpsOwner[]): GitOpsOwner[] {
  const byKey = new Map<string, GitOpsOwner>();
  for (const owner of owners) {
    const key = `${owner.kind}/${owner.namespace}/${owner.name}`;
    const known = byKey.get(key);
    if (!known || (!known.certain && owner.certain)) byKey.set(key, owner);
  }
  return [...byKey.values()];
}

const applicationSchema = z.object({
  spec: z
    .object({
      syncPolicy: z.object({ automated: z.record(z.string(), z.unknown()).nullish() }).nullish(),
    })
    .optional(),
  status: z
    .object({
      resources: z
        .array(
          z.object({
            group: z.string().optional(),
            kind: z.string().optional(),
            namespace: z.string().optional(),
            name: z.string().optional(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});

const fluxSchema = z.object({
  spec: z
    .object({
      suspend: z.boolean().nullish(),
      interval: z.string().nullish(),
      driftDetection: z.object({ mode: z.string().nullish() }).nullish(),
    })
    .optional(),
});

/** What reading a workload's GitOps owner found. */
export type Inspection =
  | {
      owner: GitOpsOwner;
      status: 'argocd';
      /** `spec.syncPolicy.automated` exactly as stored, or undefined without automated sync. */
      automated: Record<string, unknown> | undefined;
      hasSyncPolicy: boolean;
    }
  | {
      owner: GitOpsOwner;
      status: 'flux';
      suspend: boolean | undefined;
      interval: string | undefined;
      driftDetection: string | undefined;
    }
  /** The cluster serves no such resource (the controller is not installed here) or has no such object. */
  | { owner: GitOpsOwner; status: 'no-crd' | 'missing' }
  | { owner: GitOpsOwner; status: 'forbidden' | 'unreadable'; message: string };

/** Automated sync that acts: set and not turned off with `enabled: false` (Argo CD 3). */
export function syncsAutomatically(automated: Record<string, unknown> | undefined): boolean {
  return automated !== undefined && automated.enabled !== false;
}

/**
 * Reads one owner: an error is part of the answer (a missing CRD or object, no permission), never thrown, so a
 * plan says what it found instead of failing. Only an abort is thrown.
 */
export async function inspect(api: KubeApi, owner: GitOpsOwner, signal: AbortSignal): Promise<Inspection> {
  let body: unknown;
  try {
    body = await api.getCustomObject(refOf(owner), signal);
  } catch (error) {
    if (signal.aborted) throw abortReason(signal);
    if (!isRollbackError(error)) throw error;
    if (error.code === 'PROVIDER_NOT_FOUND') return { owner, status: namesObject(error.cause) ? 'missing' : 'no-crd' };
    return { owner, status: error.code === 'PROVIDER_AUTH' ? 'forbidden' : 'unreadable', message: error.message };
  }
  if (owner.kind === 'Application') {
    const parsed = applicationSchema.safeParse(body);
    if (!parsed.success)
      return { owner, status: 'unreadable', message: 'the Application is not in a shape Argo CD uses' };
    const policy = parsed.data.spec?.syncPolicy;
    // Label tracking is a guess (Helm sets that label too): an Application listing other resources only is not ours.
    const listed = parsed.data.status?.resources ?? [];
    const seen = owner.seenOn.split('/')[1];
    if (!owner.certain && listed.length > 0 && !listed.some((r) => r.kind === 'Deployment' && r.name === seen))
      return { owner, status: 'missing' };
    return { owner, status: 'argocd', automated: policy?.automated ?? undefined, hasSyncPolicy: Boolean(policy) };
  }
  const parsed = fluxSchema.safeParse(body);
  if (!parsed.success) return { owner, status: 'unreadable', message: `the ${owner.kind} is not in a shape Flux uses` };
  const spec = parsed.data.spec;
  return {
    owner,
    status: 'flux',
    suspend: spec?.suspend ?? undefined,
    interval: spec?.interval ?? undefined,
    driftDetection: spec?.driftDetection?.mode ?? undefined,
  };
}

/** Reads every owner; what label tracking only guessed is kept only when its Application is there. */
export async function inspectAll(api: KubeApi, owners: GitOpsOwner[], signal: AbortSignal): Promise<Inspection[]> {
  const found = await Promise.all(distinctOwners(owners).map((owner) => inspect(api, owner, signal)));
  return found.filter((i) => i.owner.certain || i.status === 'argocd' || i.status === 'flux');
}

/**
 * A 404 for an object the API server knows the kind of names the object (`details.name`); one for a resource it
 * does not serve (no CRD) does not, or is not even a Status ("404 page not found").
 */
function namesObject(cause: unknown): boolean {
  if (!(cause instanceof ApiException)) return false;
  const raw: unknown = cause.body;
  let body: unknown = raw;
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw);
    } catch {
      return false;
    }
  }
  const details = (body as { details?: { name?: unknown } } | undefined)?.details;
  return typeof details?.name === 'string' && details.name !== '';
}
