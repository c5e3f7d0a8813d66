/**
 * A GitOps controller, reduced to what a break-glass rollback meets: the cluster is put back to what git
 * says. Tests seed "what git says" for a managed Deployment (its pod template, optionally replicas) and
 * which controller manages it; each pass compares the live Deployment with git and, where the controller
 * would, writes git's version back through the same store path as a client's PATCH (new resourceVersion,
 * generation, watch events, the deployment controller rolls a ReplicaSet), recording the controller in
 * metadata.managedFields. Then it writes the owner's status as the controller would.
 *
 * Modelled on the controllers' own code (read in August 2026):
 *  - Argo CD (argo-cd controller/appcontroller.go autoSync, pkg/apis/.../types.go IsAutomatedSyncEnabled):
 *    resources are tracked by the annotation `argocd.argoproj.io/tracking-id: <app>:<group>/<Kind>:<ns>/<name>`
 *    (util/argo/resource_tracking.go; `<appNamespace>_<app>` outside the control-plane namespace). A drifted
 *    app is OutOfSync; it is synced only with `spec.syncPolicy.automated` set (and `enabled` not false):
 *    a new git revision always, the same revision again only with `selfHeal: true` ("Skipping auto-sync:
 *    most recent sync already to …" otherwise). Syncs are kubectl applies with field manager
 *    `argocd-controller` (common.ArgoCDSSAManager): operation Update. Status (sync, health, history,
 *    operationState) is written through the main endpoint (the CRD has no status subresource) by
 *    `argocd-application-controller`.
 *  - Flux kustomize-controller: objects carry `kustomize.toolkit.fluxcd.io/name` and `/namespace` labels
 *    (ssa.ResourceManager.SetOwnerLabels); every reconciliation not suspended (`spec.suspend: true`) applies
 *    git with server-side apply, field manager `kustomize-controller` (operation Apply), which corrects
 *    drift; status through the subresource by `gotk-kustomize-controller`.
 *  - Flux helm-controller: labels `helm.toolkit.fluxcd.io/name` and `/namespace` (postrender
 *    common_renderer.go); a new chart or values revision is an upgrade; drift is corrected only with
 *    `spec.driftDetection.mode: enabled` (the CRD's default is disabled), by a JSON patch with field owner
 *    `helm-controller` (internal/action/diff.go ApplyDiff): operation Update. Suspended: nothing happens.
 *
 * Real Argo CD refreshes every 3 minutes (timeout.reconciliation) and Flux at each object's
 * `spec.interval`; here one interval, set by the test, drives all of them, and `reconcileNow()` runs a
 * pass at once. Not modelled: pruning, health checks gating Flux readiness, Helm release Secrets for the
 * upgrades helm-controller makes, multi-source Applications.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { applyDefaults } from './defaults.js';
import { type FieldManagerWrite, nextManagedFields } from './managed-fields.js';
import { clone, type KubeObject, nowIso, type ObjectStore } from './object-store.js';
import { applyStrategicMergePatch } from './patch.js';
import { typeOf } from './resources.js';

type GitOpsKind = 'Application' | 'Kustomization' | 'HelmRelease';

/** Which GitOps object manages a Deployment. Namespace defaults: `argocd` for an Application, `flux-system` for Flux. */
export interface GitOpsOwner {
  kind: GitOpsKind;
  name: string;
  namespace?: string;
}

/** What git says about a managed Deployment. */
export interface GitDesiredState {
  /** The pod template (`spec.template`) as the manifest in git has it. */
  template: KubeObject;
  /** `spec.replicas` when git sets it (then a `kubectl scale` is drift too). */
  replicas?: number;
}

/** A new commit for a managed Deployment: a new image for one container, or a whole template, or replicas. */
export interface GitChange {
  image?: string;
  /** The container `image` is for; default the first. */
  container?: string;
  template?: KubeObject;
  replicas?: number;
  /** The commit (Argo CD, Kustomization) or chart version (HelmRelease); default a random commit SHA. */
  revision?: string;
}

/** What one pass did. */
export interface GitOpsPassResult {
  /** Deployments written back, as `<namespace>/<name>`, with the manager that wrote them. */
  reverted: Array<{ deployment: string; manager: string }>;
}

interface Managed {
  namespace: string;
  name: string;
  owner: Required<GitOpsOwner>;
  desired: GitDesiredState;
}

interface OwnerState {
  /** Git HEAD (or the chart version). */
  head: string;
  /** The revision last applied to the cluster. */
  deployed: string;
  history: Array<{ id: number; revision: string; deployedAt: string }>;
  /** Helm release revision (HelmRelease only). */
  releaseVersion: number;
  /** The last sync operation (Application only). */
  operationState?: KubeObject;
}

const ARGOCD_NAMESPACE = 'argocd';
const FLUX_NAMESPACE = 'flux-system';
const TRACKING_ID = 'argocd.argoproj.io/tracking-id';

const RESOURCE: Record<GitOpsKind, string> = {
  Application: 'applications',
  Kustomization: 'kustomizations',
  HelmRelease: 'helmreleases',
};
const LABEL_GROUP: Record<Exclude<GitOpsKind, 'Application'>, string> = {
  Kustomization: 'kustomize.toolkit.fluxcd.io',
  HelmRelease: 'helm.toolkit.fluxcd.io',
};
/** Who writes the managed objects, and how. */
const WRITER: Record<GitOpsKind, { manager: string; operation: FieldManagerWrite['operation'] }> = {
  Application: { manager: 'argocd-controller', operation: 'Update' },
  Kustomization: { manager: 'kustomize-controller', operation: 'Apply' },
  HelmRelease: { manager: 'helm-controller', operation: 'Update' },
};
/** Who writes the GitOps object's status. */
const STATUS_MANAGER: Record<GitOpsKind, string> = {
  Application: 'argocd-application-controller',
  Kustomization: 'gotk-kustomize-controller',
  HelmRelease: 'helm-controller',
};

export function randomCommit(): string {
  return randomBytes(20).toString('hex');
}

export function withOwnerDefaults(owner: GitOpsOwner): Required<GitOpsOwner> {
  return { ...owner, namespace: owner.namespace ?? (owner.kind === 'Application' ? ARGOCD_NAMESPACE : FLUX_NAMESPACE) };
}

/** The metadata a controller stamps on what it manages: Argo CD's tracking annotation, Flux's owner labels. */
function ownerMarks(
  owner: Required<GitOpsOwner>,
  deployment: { namespace: string; name: string },
): { labels: Record<string, string>; annotations: Record<string, string> } {
  if (owner.kind === 'Application') {
    const app = owner.namespace === ARGOCD_NAMESPACE ? owner.name : `${owner.namespace}_${owner.name}`;
    return {
      labels: {},
      annotations: { [TRACKING_ID]: `${app}:apps/Deployment:${deployment.namespace}/${deployment.name}` },
    };
  }
  const group = LABEL_GROUP[owner.kind];
  return { labels: { [`${group}/name`]: owner.name, [`${group}/namespace`]: owner.namespace }, annotations: {} };
}

const ownerKey = (owner: Required<GitOpsOwner>): string => `${owner.kind}/${owner.namespace}/${owner.name}`;

export class GitOpsReconciler {
  private readonly managed = new Map<string, Managed>();
  private readonly owners = new Map<string, OwnerState>();
  private timer: NodeJS.Timeout | undefined;
  private intervalMs: number;
  private passCount = 0;
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    intervalMs: number,
  ) {
    this.intervalMs = intervalMs;
  }

  /** Passes run so far (interval or reconcileNow): tests wait on it rather than sleep. */
  get passes(): number {
    return this.passCount;
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
    if (this.timer) {
      this.stop();
      this.start();
    }
  }

  /** Registers an owner (a seeded Application, Kustomization or HelmRelease) with its current revision. */
  registerOwner(owner: Required<GitOpsOwner>, revision: string): void {
    const deployedAt = nowIso();
    const existing = this.owners.get(ownerKey(owner));
    if (existing) return;
    this.owners.set(ownerKey(owner), {
      head: revision,
      deployed: revision,
      history: [{ id: 0, revision, deployedAt }],
      releaseVersion: 1,
    });
    this.start();
  }

  /**
   * Marks a Deployment as managed by `owner` (tracking annotation or owner labels, and the controller's
   * ownership of every field in metadata.managedFields, as if the controller had created it) and records
   * what git says about it: `desired`, or the live template when omitted.
   */
  manage(namespace: string, name: string, owner: Required<GitOpsOwner>, desired?: Partial<GitDesiredState>): void {
    const live = this.store.mustGet('deployments', namespace, name);
    const marks = ownerMarks(owner, { namespace, name });
    const next = clone(live);
    next.metadata.labels = { ...(live.metadata.labels ?? {}), ...marks.labels };
    next.metadata.annotations = { ...(live.metadata.annotations ?? {}), ...marks.annotations };
    if (Object.keys(next.metadata.annotations).length === 0) delete next.metadata.annotations;
    const state: GitDesiredState = {
      template: clone(desired?.template ?? live.spec.template),
      ...(desired?.replicas !== undefined ? { replicas: desired.replicas } : {}),
    };
    const write = this.writer(owner, next, state);
    // The revision annotation is the deployment controller's, not the GitOps controller's.
    const owned = clone(next);
    delete owned.metadata.annotations?.['deployment.kubernetes.io/revision'];
    next.metadata.managedFields = nextManagedFields(typeOf('deployments'), undefined, owned, write, nowIso());
    this.store.update('deployments', next);
    this.managed.set(`${namespace}/${name}`, { namespace, name, owner, desired: state });
    this.start();
  }

  /** A new commit: what git says about the Deployment changes; the controller deploys it on its next pass. */
  gitSays(namespace: string, name: string, change: GitChange): string {
    const entry = this.managed.get(`${namespace}/${name}`);
    if (!entry)
      throw new Error(`kube-simulator: deployment ${namespace}/${name} is not managed by a GitOps controller`);
    const template = clone(change.template ?? entry.desired.template);
    if (change.image !== undefined) {
      const containers: KubeObject[] = template.spec?.containers ?? [];
      const target = change.container ? containers.find((c) => c.name === change.container) : containers[0];
      if (!target) throw new Error(`kube-simulator: no container ${change.container ?? ''} in ${namespace}/${name}`);
      target.image = change.image;
    }
    entry.desired = {
      template,
      ...(change.replicas !== undefined
        ? { replicas: change.replicas }
        : entry.desired.replicas !== undefined
          ? { replicas: entry.desired.replicas }
          : {}),
    };
    const state = this.owners.get(ownerKey(entry.owner));
    const revision = change.revision ?? randomCommit();
    if (state) state.head = revision;
    return revision;
  }

  /** What git says about a managed Deployment now. */
  desired(namespace: string, name: string): GitDesiredState | undefined {
    const entry = this.managed.get(`${namespace}/${name}`);
    return entry ? clone(entry.desired) : undefined;
  }

  /** One pass of every controller: drift corrected where the controller would, statuses written. */
  reconcileNow(): GitOpsPassResult {
    this.passCount += 1;
    const result: GitOpsPassResult = { reverted: [] };
    for (const [key, state] of this.owners) {
      const [kind, namespace, name] = key.split('/') as [GitOpsKind, string, string];
      const owner: Required<GitOpsOwner> = { kind, namespace, name };
      const object = this.store.get(RESOURCE[kind], namespace, name);
      if (!object || object.metadata.deletionTimestamp) continue;
      const deployments = [...this.managed.values()].filter((m) => ownerKey(m.owner) === key);
      if (kind === 'Application') this.reconcileApplication(object, state, deployments, result);
      else this.reconcileFlux(object, owner, state, deployments, result);
    }
    return result;
  }

  close(): void {
    this.closed = true;
    this.stop();
  }

  // ---- controllers ------------------------------------------------------------------------------------

  private reconcileApplication(
    app: KubeObject,
    state: OwnerState,
    deployments: Managed[],
    result: GitOpsPassResult,
  ): void {
    const automated = app.spec?.syncPolicy?.automated;
    const autoSync = Boolean(automated) && automated.enabled !== false;
    const selfHeal = autoSync && automated.selfHeal === true;
    const newRevision = state.deployed !== state.head;
    const drifted = deployments.filter((d) => this.drifted(d));
    if (autoSync && (newRevision || (selfHeal && drifted.length > 0))) {
      const startedAt = nowIso();
      for (const d of drifted) this.writeBack(d, result);
      if (newRevision) {
        state.deployed = state.head;
        state.history.push({ id: state.history.length, revision: state.head, deployedAt: nowIso() });
      }
      state.operationState = {
        operation: {
          sync: { revision: state.head, ...(automated.prune ? { prune: true } : {}) },
          initiatedBy: { automated: true },
          retry: { limit: 5 },
        },
        phase: 'Succeeded',
        message: 'successfully synced (all tasks run)',
        syncResult: { revision: state.head, source: clone(app.spec?.source ?? {}) },
        startedAt,
        finishedAt: nowIso(),
      };
    }
    const resources = deployments.map((d) => {
      const live = this.store.get('deployments', d.namespace, d.name);
      return {
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        namespace: d.namespace,
        name: d.name,
        status: live && !this.drifted(d) ? 'Synced' : 'OutOfSync',
        health: live ? deploymentHealth(live) : { status: 'Missing' },
      };
    });
    const outOfSync = resources.some((r) => r.status !== 'Synced');
    const health = worstHealth(resources.map((r) => r.health));
    const old = app.status ?? {};
    const status: KubeObject = {
      ...clone(old),
      sync: {
        status: outOfSync ? 'OutOfSync' : 'Synced',
        revision: state.head,
        comparedTo: { source: clone(app.spec?.source ?? {}), destination: clone(app.spec?.destination ?? {}) },
      },
      health: keepTransition(old.health, health),
      resources,
      history: state.history.map((h) => ({ ...h, source: clone(app.spec?.source ?? {}) })),
      sourceType: 'Directory',
      ...(state.operationState ? { operationState: clone(state.operationState) } : {}),
    };
    delete status.reconciledAt;
    if (isDeepStrictEqual(withoutReconciledAt(old), status)) return;
    status.reconciledAt = nowIso();
    this.store.update(
      'applications',
      { ...app, status },
      { manager: { manager: STATUS_MANAGER.Application, operation: 'Update' } },
    );
  }

  private reconcileFlux(
    object: KubeObject,
    owner: Required<GitOpsOwner>,
    state: OwnerState,
    deployments: Managed[],
    result: GitOpsPassResult,
  ): void {
    if (object.spec?.suspend === true) return;
    const newRevision = state.deployed !== state.head;
    const correctsDrift = owner.kind === 'Kustomization' || object.spec?.driftDetection?.mode === 'enabled';
    if (newRevision || correctsDrift) {
      for (const d of deployments) if (this.drifted(d)) this.writeBack(d, result);
    }
    if (newRevision) {
      state.deployed = state.head;
      state.releaseVersion += 1;
      state.history.push({ id: state.history.length, revision: state.head, deployedAt: nowIso() });
    }
    const old = object.status ?? {};
    const status =
      owner.kind === 'Kustomization'
        ? this.kustomizationStatus(object, state, deployments)
        : this.helmReleaseStatus(object, state, deployments);
    status.conditions = status.conditions.map((c: KubeObject) => {
      const before = (old.conditions ?? []).find((o: KubeObject) => o.type === c.type);
      return before && before.status === c.status && before.reason === c.reason
        ? { ...c, lastTransitionTime: before.lastTransitionTime }
        : c;
    });
    if (isDeepStrictEqual(old, status)) return;
    this.store.update(
      RESOURCE[owner.kind],
      { ...object, status },
      {
        subresource: 'status',
        manager: { manager: STATUS_MANAGER[owner.kind], operation: 'Update', subresource: 'status' },
      },
    );
  }

  private kustomizationStatus(object: KubeObject, state: OwnerState, deployments: Managed[]): KubeObject {
    const revision = `main@sha1:${state.deployed}`;
    return {
      observedGeneration: object.metadata.generation,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'ReconciliationSucceeded',
          message: `Applied revision: ${revision}`,
          observedGeneration: object.metadata.generation,
          lastTransitionTime: nowIso(),
        },
      ],
      lastAppliedRevision: revision,
      lastAttemptedRevision: revision,
      inventory: {
        entries: deployments.map((d) => ({ id: `${d.namespace}_${d.name}_apps_Deployment`, v: 'v1' })),
      },
    };
  }

  private helmReleaseStatus(object: KubeObject, state: OwnerState, deployments: Managed[]): KubeObject {
    const chart = object.spec?.chart?.spec?.chart ?? object.metadata.name;
    const releaseName = object.spec?.releaseName ?? object.metadata.name;
    const namespace = object.spec?.targetNamespace ?? deployments[0]?.namespace ?? object.metadata.namespace;
    const action = state.releaseVersion === 1 ? 'install' : 'upgrade';
    const message = `Helm ${action} succeeded for release ${namespace}/${releaseName}.v${state.releaseVersion} with chart ${chart}@${state.deployed}`;
    const reason = action === 'install' ? 'InstallSucceeded' : 'UpgradeSucceeded';
    const condition = (type: string) => ({
      type,
      status: 'True',
      reason,
      message,
      observedGeneration: object.metadata.generation,
      lastTransitionTime: nowIso(),
    });
    return {
      observedGeneration: object.metadata.generation,
      conditions: [condition('Ready'), condition('Released')],
      helmChart: `${object.metadata.namespace}-${object.metadata.name}`,
      lastAttemptedGeneration: object.metadata.generation,
      lastAttemptedReleaseAction: action,
      lastAttemptedRevision: state.deployed,
      storageNamespace: namespace,
      history: [...state.history].reverse().map((h, i) => ({
        chartName: chart,
        chartVersion: h.revision,
        name: releaseName,
        namespace,
        status: i === 0 ? 'deployed' : 'superseded',
        version: state.releaseVersion - i,
      })),
    };
  }

  // ---- drift ----------------------------------------------------------------------------------------

  /** The live Deployment with git's fields put back (what the controller's apply would leave). */
  private corrected(live: KubeObject, desired: GitDesiredState): KubeObject {
    const patch: KubeObject = { spec: { template: clone(desired.template) } };
    if (desired.replicas !== undefined) patch.spec.replicas = desired.replicas;
    const next = applyStrategicMergePatch(live, patch);
    applyDefaults('deployments', next);
    return next;
  }

  private drifted(d: Managed): boolean {
    const live = this.store.get('deployments', d.namespace, d.name);
    if (!live) return false;
    return !isDeepStrictEqual(this.corrected(live, d.desired).spec, live.spec);
  }

  private writeBack(d: Managed, result: GitOpsPassResult): void {
    const live = this.store.get('deployments', d.namespace, d.name);
    if (!live) return;
    const next = this.corrected(live, d.desired);
    const write = this.writer(d.owner, next, d.desired);
    this.store.update('deployments', next, { manager: write });
    result.reverted.push({ deployment: `${d.namespace}/${d.name}`, manager: write.manager });
  }

  /** The write of the controller that manages a Deployment; an Apply carries the manifest it applies. */
  private writer(owner: Required<GitOpsOwner>, deployment: KubeObject, desired: GitDesiredState): FieldManagerWrite {
    const { manager, operation } = WRITER[owner.kind];
    if (operation !== 'Apply') return { manager, operation };
    const { namespace, name } = deployment.metadata;
    const labels = ownerMarks(owner, { namespace, name }).labels;
    return {
      manager,
      operation,
      applied: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: deployment.metadata.name, namespace: deployment.metadata.namespace, labels },
        spec: {
          ...(desired.replicas !== undefined ? { replicas: desired.replicas } : {}),
          selector: clone(deployment.spec.selector),
          template: clone(desired.template),
        },
      },
    };
  }

  // ---- timer ----------------------------------------------------------------------------------------

  private start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      if (!this.closed) this.reconcileNow();
    }, this.intervalMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

// ---- Argo CD health ---------------------------------------------------------------------------------

/** gitops-engine pkg/health/health_deployment.go getAppsv1DeploymentHealth. */
function deploymentHealth(deployment: KubeObject): { status: string; message?: string } {
  if (deployment.spec?.paused) return { status: 'Suspended', message: 'Deployment is paused' };
  const s = deployment.status ?? {};
  const name = deployment.metadata.name;
  if ((deployment.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) {
    return {
      status: 'Progressing',
      message: 'Waiting for rollout to finish: observed deployment generation less than desired generation',
    };
  }
  const progressing = (s.conditions ?? []).find((c: KubeObject) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { status: 'Degraded', message: `Deployment "${name}" exceeded its progress deadline` };
  }
  const replicas = deployment.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  if (updated < replicas) {
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
    };
  }
  if ((s.replicas ?? 0) > updated) {
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...`,
    };
  }
  if ((s.availableReplicas ?? 0) < updated) {
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...`,
    };
  }
  return { status: 'Healthy' };
}

const HEALTH_ORDER = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

/** An app's health is its worst resource's (gitops-engine health.IsWorse), without the resource's message. */
function worstHealth(healths: Array<{ status: string }>): { status: string } {
  let worst = 'Healthy';
  for (const h of healths) if (HEALTH_ORDER.indexOf(h.status) > HEALTH_ORDER.indexOf(worst)) worst = h.status;
  return { status: worst };
}

function keepTransition(old: KubeObject | undefined, next: { status: string }): KubeObject {
  if (old?.status === next.status && old.lastTransitionTime)
    return { ...next, lastTransitionTime: old.lastTransitionTime };
  return { ...next, lastTransitionTime: nowIso() };
}

function withoutReconciledAt(status: KubeObject): KubeObject {
  const copy = clone(status);
  delete copy.reconciledAt;
  return copy;
}
