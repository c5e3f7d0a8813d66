/**
 * The deployment and replica-set controllers plus a kubelet, reduced to what rollouts show through the
 * API. Modelled on k8s.io/kubernetes pkg/controller/deployment (rolling.go, sync.go, progress.go,
 * util/deployment_util.go): a ReplicaSet per pod template (reused on rollback, with its revision bumped
 * and the old number kept in revision-history), maxSurge/maxUnavailable arithmetic, status with
 * observedGeneration, and the Progressing/Available conditions with their real reasons and messages.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { clone, type KubeObject, nowIso, type ObjectStore, SAFE_ALPHABET, type StoreEvent } from './object-store.js';
import { isPodReady, newPod, startedStatus, terminatingStatus } from './pods.js';

const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const HASH_LABEL = 'pod-template-hash';
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);
const NO_PROGRESS_DEADLINE = 2147483647;

export class DeploymentController {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly deadlines = new Map<string, NodeJS.Timeout>();
  /** ReplicaSets (by uid) whose pods crash-loop: the rollouts failProgress() broke. */
  private readonly brokenReplicaSets = new Set<string>();
  private readonly failNextRollout = new Set<string>();
  private readonly queued = new Set<string>();
  private flushScheduled = false;
  private stalled = false;
  /** Starts of pods created while held (holdPods), run on release. */
  private heldPods: Array<() => void> | undefined;
  private instant = false;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    public readyDelayMs: number,
  ) {
    this.unsubscribe = store.subscribe((event) => this.onEvent(event));
  }

  failProgress(namespace: string, name: string): void {
    this.failNextRollout.add(`${namespace}/${name}`);
  }

  /**
   * Stops the controllers reacting to changes until `resume()`, as a busy or failing-over
   * kube-controller-manager does: a Deployment's new template stays unobserved (no new ReplicaSet, the
   * revision annotation and observedGeneration unchanged). The kubelet's timers still fire; what they
   * change is synced on resume.
   */
  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
    const [namespace] = this.queued;
    if (namespace !== undefined) this.queue(namespace);
  }

  /** Pods created while held do not start until `releasePods()`: a test decides when a rollout may progress. */
  holdPods(): void {
    this.heldPods = [];
  }

  releasePods(): void {
    const held = this.heldPods ?? [];
    this.heldPods = undefined;
    for (const start of held) this.later(this.readyDelayMs, start);
  }

  /** Runs the controllers to a fixed point at once: seeded objects look long settled. */
  settle(namespace: string): void {
    this.instant = true;
    try {
      for (let i = 0; i < 200; i++) {
        const before = this.store.resourceVersion;
        this.syncNamespace(namespace);
        if (this.store.resourceVersion === before) return;
      }
      throw new Error(`kube-simulator: controllers did not settle in namespace ${namespace}`);
    } finally {
      this.instant = false;
    }
  }

  /** A pod deleted through the API: graceful termination, then gone. */
  terminatePod(namespace: string, name: string, gracePeriodSeconds?: number): KubeObject {
    const pod = this.store.mustGet('pods', namespace, name);
    if (pod.metadata.deletionTimestamp) return pod;
    return this.beginTermination(pod, gracePeriodSeconds);
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const timer of this.timers) clearTimeout(timer);
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    this.timers.clear();
    this.deadlines.clear();
  }

  private onEvent(event: StoreEvent): void {
    if (this.closed) return;
    const { resource, type, object } = event;
    if (type === 'DELETED' && (resource === 'deployments' || resource === 'replicasets')) {
      // The garbage collector's cascade: dependents go with their owner.
      const dependents = resource === 'deployments' ? 'replicasets' : 'pods';
      for (const child of this.store.list(dependents, object.metadata.namespace)) {
        if (controllerUid(child) !== object.metadata.uid) continue;
        if (dependents === 'replicasets')
          this.store.delete('replicasets', child.metadata.namespace, child.metadata.name);
        else if (!child.metadata.deletionTimestamp) this.beginTermination(child);
      }
    }
    if (resource === 'deployments' || resource === 'replicasets' || resource === 'pods') {
      this.queue(object.metadata.namespace);
    }
  }

  private queue(namespace: string): void {
    this.queued.add(namespace);
    if (this.flushScheduled || this.closed || this.stalled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * Controller passes until nothing changes. Each pass writes what it computed, so watchers see every
   * intermediate state (a Deployment's status lags its ReplicaSets' by one pass, as with the real,
   * separate controllers); looping to a fixed point makes the sequence independent of timer jitter.
   */
  private flush(): void {
    if (this.stalled) return;
    for (let i = 0; i < 100 && this.queued.size > 0 && !this.closed; i++) {
      const namespaces = [...this.queued];
      this.queued.clear();
      for (const ns of namespaces) this.syncNamespace(ns);
    }
  }

  /**
   * Kubelet-side changes (a pod became Ready, a pod finished terminating) are followed at once by the
   * controllers' reaction, even when two pods' timers expire in the same turn of the event loop.
   */
  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      fn();
      this.flush();
    }, ms);
    this.timers.add(timer);
  }

  /** The deployment controller, then the replica-set controller: one pass of each. */
  private syncNamespace(namespace: string): void {
    for (const deployment of this.store.list('deployments', namespace)) this.syncDeployment(deployment);
    for (const rs of this.store.list('replicasets', namespace)) this.syncReplicaSet(rs);
  }

  // ---- deployment controller ------------------------------------------------------------------------

  private syncDeployment(initial: KubeObject): void {
    if (initial.metadata.deletionTimestamp) return;
    const { namespace, name } = initial.metadata;
    let deployment = initial;
    const paused = Boolean(deployment.spec.paused);
    let newRS = this.findNewReplicaSet(deployment);
    let progressEvent: { reason: string; message: string } | undefined;

    if (!paused) {
      const ensured = this.ensureNewReplicaSet(deployment, newRS);
      newRS = ensured.rs;
      progressEvent = ensured.condition;
      deployment = this.store.mustGet('deployments', namespace, name);
      if (deployment.spec.strategy?.type === 'Recreate') this.rolloutRecreate(deployment, newRS);
      else this.rolloutRolling(deployment, newRS);
    }
    // Status comes from the ReplicaSets' status as the replica-set controller last wrote it: right after
    // a template change the new ReplicaSet reports no pods yet, which is what makes the next pass, when
    // it does, count as progress.
    if (newRS) newRS = this.store.get('replicasets', namespace, newRS.metadata.name);
    this.syncStatus(deployment, newRS, progressEvent);
    if (!paused && newRS && this.isComplete(this.store.mustGet('deployments', namespace, name))) {
      this.cleanupHistory(deployment, newRS);
    }
  }

  private ownedReplicaSets(deployment: KubeObject): KubeObject[] {
    return this.store
      .list('replicasets', deployment.metadata.namespace)
      .filter((rs) => controllerUid(rs) === deployment.metadata.uid);
  }

  private findNewReplicaSet(deployment: KubeObject): KubeObject | undefined {
    const wanted = withoutHash(deployment.spec.template);
    return this.ownedReplicaSets(deployment)
      .sort(byCreation)
      .find((rs) => isDeepStrictEqual(withoutHash(rs.spec.template), wanted));
  }

  /**
   * getNewReplicaSet(createIfNotExisted=true): creates the ReplicaSet for a new template, or brings an
   * old one back with the next revision (a rollback), and copies the revision onto the Deployment.
   */
  private ensureNewReplicaSet(
    deployment: KubeObject,
    existing: KubeObject | undefined,
  ): { rs: KubeObject; condition?: { reason: string; message: string } } {
    const { namespace, name } = deployment.metadata;
    const key = `${namespace}/${name}`;
    const others = this.ownedReplicaSets(deployment).filter((rs) => rs.metadata.uid !== existing?.metadata.uid);
    const maxOld = Math.max(0, ...others.map(revisionOf));
    const nextRevision = String(maxOld + 1);
    let rs: KubeObject;
    let condition: { reason: string; message: string } | undefined;

    if (existing) {
      rs = existing;
      const annotations = { ...(rs.metadata.annotations ?? {}) };
      copyDeploymentAnnotations(deployment, annotations);
      const oldRevision = annotations[REVISION] as string | undefined;
      const revisionBumped = Number(oldRevision ?? 0) < maxOld + 1;
      if (revisionBumped) {
        annotations[REVISION] = nextRevision;
        if (oldRevision) {
          const history = annotations[REVISION_HISTORY] as string | undefined;
          annotations[REVISION_HISTORY] = history ? `${history},${oldRevision}` : oldRevision;
        }
        if (this.failNextRollout.delete(key)) this.brokenReplicaSets.add(rs.metadata.uid);
      }
      annotations[DESIRED_REPLICAS] = String(deployment.spec.replicas);
      annotations[MAX_REPLICAS] = String(deployment.spec.replicas + this.fenceposts(deployment).maxSurge);
      if (!isDeepStrictEqual(annotations, rs.metadata.annotations ?? {})) {
        rs = this.store.update('replicasets', { ...rs, metadata: { ...rs.metadata, annotations } });
      }
      if (!progressingCondition(deployment) && hasProgressDeadline(deployment)) {
        condition = { reason: 'FoundNewReplicaSet', message: `Found new replica set "${rs.metadata.name}"` };
      }
    } else {
      const template = clone(deployment.spec.template);
      let collisions = deployment.status?.collisionCount ?? 0;
      let hash = templateHash(template, collisions);
      while (this.store.get('replicasets', namespace, `${name}-${hash}`)) hash = templateHash(template, ++collisions);
      template.metadata = { ...(template.metadata ?? {}) };
      template.metadata.labels = { ...(template.metadata.labels ?? {}), [HASH_LABEL]: hash };
      const annotations: Record<string, string> = {};
      copyDeploymentAnnotations(deployment, annotations);
      annotations[DESIRED_REPLICAS] = String(deployment.spec.replicas);
      annotations[MAX_REPLICAS] = String(deployment.spec.replicas + this.fenceposts(deployment).maxSurge);
      annotations[REVISION] = nextRevision;
      rs = this.store.create(
        'replicasets',
        {
          metadata: {
            name: `${name}-${hash}`,
            namespace,
            labels: { ...template.metadata.labels },
            annotations,
            ownerReferences: [ownerReference('apps/v1', 'Deployment', deployment)],
          },
          spec: {
            replicas: 0,
            minReadySeconds: deployment.spec.minReadySeconds ?? 0,
            selector: {
              ...clone(deployment.spec.selector),
              matchLabels: { ...(deployment.spec.selector?.matchLabels ?? {}), [HASH_LABEL]: hash },
            },
            template,
          },
        },
        { keepStatus: true },
      );
      if (this.failNextRollout.delete(key)) this.brokenReplicaSets.add(rs.metadata.uid);
      condition = { reason: 'NewReplicaSetCreated', message: `Created new replica set "${rs.metadata.name}"` };
    }

    const revision = rs.metadata.annotations?.[REVISION];
    if (deployment.metadata.annotations?.[REVISION] !== revision) {
      const fresh = this.store.mustGet('deployments', namespace, name);
      fresh.metadata.annotations = { ...(fresh.metadata.annotations ?? {}), [REVISION]: revision };
      this.store.update('deployments', fresh);
    }
    return { rs, ...(condition ? { condition } : {}) };
  }

  /** rolling.go: scale the new ReplicaSet up within maxSurge, old ones down within maxUnavailable. */
  private rolloutRolling(deployment: KubeObject, newRS: KubeObject): void {
    const desired: number = deployment.spec.replicas;
    const { maxSurge, maxUnavailable } = this.fenceposts(deployment);
    const all = () => this.ownedReplicaSets(deployment);
    let current = this.store.mustGet('replicasets', newRS.metadata.namespace, newRS.metadata.name);

    const total = sum(all(), (rs) => rs.spec.replicas);
    if (current.spec.replicas < desired) {
      const room = desired + maxSurge - total;
      const up = Math.min(room, desired - current.spec.replicas);
      if (up > 0) current = this.scale(deployment, current, current.spec.replicas + up);
    } else if (current.spec.replicas > desired) {
      current = this.scale(deployment, current, desired);
    }

    const olds = all()
      .filter((rs) => rs.metadata.uid !== current.metadata.uid && rs.spec.replicas > 0)
      .sort(byCreation);
    if (olds.length === 0) return;
    const minAvailable = desired - maxUnavailable;
    const newUnavailable = current.spec.replicas - (current.status?.availableReplicas ?? 0);
    const maxScaledDown = sum(all(), (rs) => rs.spec.replicas) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;

    // cleanupUnhealthyReplicas: old pods that are not available go first, they cost no availability.
    let cleaned = 0;
    for (const rs of olds) {
      const unhealthy = rs.spec.replicas - (rs.status?.availableReplicas ?? 0);
      if (unhealthy <= 0 || cleaned >= maxScaledDown) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      this.scale(deployment, rs, rs.spec.replicas - down);
      cleaned += down;
    }
    // scaleDownOldReplicaSetsForRollingUpdate
    const available = sum(all(), (rs) => rs.status?.availableReplicas ?? 0);
    if (available <= minAvailable) return;
    let budget = available - minAvailable;
    for (const rs of all()
      .filter((r) => r.metadata.uid !== current.metadata.uid && r.spec.replicas > 0)
      .sort(byCreation)) {
      if (budget <= 0) break;
      const down = Math.min(rs.spec.replicas, budget);
      this.scale(deployment, rs, rs.spec.replicas - down);
      budget -= down;
    }
  }

  private rolloutRecreate(deployment: KubeObject, newRS: KubeObject): void {
    const olds = this.ownedReplicaSets(deployment).filter((rs) => rs.metadata.uid !== newRS.metadata.uid);
    for (const rs of olds) if (rs.spec.replicas > 0) this.scale(deployment, rs, 0);
    const oldPodsLeft = this.store
      .list('pods', deployment.metadata.namespace)
      .some((pod) => olds.some((rs) => controllerUid(pod) === rs.metadata.uid));
    if (!oldPodsLeft && newRS.spec.replicas !== deployment.spec.replicas) {
      this.scale(deployment, newRS, deployment.spec.replicas);
    }
  }

  private scale(deployment: KubeObject, rs: KubeObject, replicas: number): KubeObject {
    const from = rs.spec.replicas;
    const fresh = this.store.mustGet('replicasets', rs.metadata.namespace, rs.metadata.name);
    fresh.spec.replicas = replicas;
    fresh.metadata.annotations = {
      ...(fresh.metadata.annotations ?? {}),
      [DESIRED_REPLICAS]: String(deployment.spec.replicas),
      [MAX_REPLICAS]: String(deployment.spec.replicas + this.fenceposts(deployment).maxSurge),
    };
    const updated = this.store.update('replicasets', fresh);
    this.recordEvent(
      deployment,
      'ScalingReplicaSet',
      `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`,
    );
    return updated;
  }

  private fenceposts(deployment: KubeObject): { maxSurge: number; maxUnavailable: number } {
    const desired: number = deployment.spec.replicas ?? 1;
    const rolling = deployment.spec.strategy?.rollingUpdate ?? {};
    // MaxSurge and MaxUnavailable are 0 for Recreate (and for zero replicas): all must be available.
    if (deployment.spec.strategy?.type === 'Recreate' || desired === 0) return { maxSurge: 0, maxUnavailable: 0 };
    const maxSurge = intOrPercent(rolling.maxSurge ?? '25%', desired, true);
    let maxUnavailable = intOrPercent(rolling.maxUnavailable ?? '25%', desired, false);
    // Both zero would deadlock a rollout; the controller allows one unavailable pod instead.
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    return { maxSurge, maxUnavailable: Math.min(maxUnavailable, desired) };
  }

  private syncStatus(
    deployment: KubeObject,
    newRS: KubeObject | undefined,
    event?: { reason: string; message: string },
  ): void {
    const { namespace, name } = deployment.metadata;
    const fresh = this.store.mustGet('deployments', namespace, name);
    const all = this.ownedReplicaSets(fresh);
    const old = fresh.status ?? {};
    const desired: number = fresh.spec.replicas;
    const available = sum(all, (rs) => rs.status?.availableReplicas ?? 0);
    const totalSpec = sum(all, (rs) => rs.spec.replicas);
    const counts = {
      replicas: sum(all, (rs) => rs.status?.replicas ?? 0),
      updatedReplicas: newRS ? (newRS.status?.replicas ?? 0) : 0,
      readyReplicas: sum(all, (rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, totalSpec - available),
    };
    let conditions: KubeObject[] = clone(old.conditions ?? []);
    const { maxUnavailable } = this.fenceposts(fresh);
    conditions =
      available >= desired - maxUnavailable
        ? setCondition(
            conditions,
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
          )
        : setCondition(
            conditions,
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
          );

    const current = conditions.find((c) => c.type === 'Progressing');
    if (fresh.spec.paused) {
      if (current?.reason !== 'DeploymentPaused') {
        conditions = setCondition(conditions, 'Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused');
      }
    } else if (current?.reason === 'DeploymentPaused') {
      conditions = setCondition(conditions, 'Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed');
    }
    if (!fresh.spec.paused && hasProgressDeadline(fresh)) {
      if (event) conditions = setCondition(conditions, 'Progressing', 'True', event.reason, event.message);
      conditions = this.progress(fresh, newRS, counts, old, conditions);
    }

    const status: KubeObject = { observedGeneration: fresh.metadata.generation };
    for (const [k, v] of Object.entries(counts)) if (v !== 0) status[k] = v;
    status.conditions = conditions;
    if (old.collisionCount !== undefined) status.collisionCount = old.collisionCount;
    const updated = this.store.update('deployments', { ...fresh, status }, { subresource: 'status' });
    this.scheduleDeadline(updated);
  }

  /** progress.go syncRolloutStatus: complete, progressing (progress refreshes lastUpdateTime) or timed out. */
  private progress(
    deployment: KubeObject,
    newRS: KubeObject | undefined,
    counts: Record<string, number>,
    old: KubeObject,
    conditions: KubeObject[],
  ): KubeObject[] {
    const current = conditions.find((c) => c.type === 'Progressing');
    const desired: number = deployment.spec.replicas;
    const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${deployment.metadata.name}"`;
    const alreadyComplete = counts.replicas === counts.updatedReplicas && current?.reason === 'NewReplicaSetAvailable';
    if (alreadyComplete) return conditions;
    const complete =
      counts.updatedReplicas === desired && counts.replicas === desired && counts.availableReplicas === desired;
    const n = (v: unknown) => (typeof v === 'number' ? v : 0);
    const progressed =
      n(counts.updatedReplicas) > n(old.updatedReplicas) ||
      n(counts.readyReplicas) > n(old.readyReplicas) ||
      n(counts.availableReplicas) > n(old.availableReplicas) ||
      n(counts.replicas) - n(counts.updatedReplicas) < n(old.replicas) - n(old.updatedReplicas);
    if (complete) {
      return setCondition(
        conditions,
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `${subject} has successfully progressed.`,
      );
    }
    if (progressed) {
      const now = nowIso();
      const keepTransition = current?.status === 'True' ? current.lastTransitionTime : now;
      return [
        ...conditions.filter((c) => c.type !== 'Progressing'),
        {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: now,
          lastTransitionTime: keepTransition,
          reason: 'ReplicaSetUpdated',
          message: `${subject} is progressing.`,
        },
      ];
    }
    // DeploymentTimedOut: a finished rollout cannot time out, nor can one that already did.
    if (current && current.reason !== 'ProgressDeadlineExceeded' && current.reason !== 'NewReplicaSetAvailable') {
      const deadline = Date.parse(current.lastUpdateTime) + deployment.spec.progressDeadlineSeconds * 1000;
      if (Date.now() > deadline) {
        return setCondition(
          conditions,
          'Progressing',
          'False',
          'ProgressDeadlineExceeded',
          `${subject} has timed out progressing.`,
        );
      }
    }
    return conditions;
  }

  /** requeueStuckDeployment: look again when the progress deadline passes. */
  private scheduleDeadline(deployment: KubeObject): void {
    const key = `${deployment.metadata.namespace}/${deployment.metadata.name}`;
    const existing = this.deadlines.get(key);
    if (existing) clearTimeout(existing);
    this.deadlines.delete(key);
    const cond = progressingCondition(deployment);
    if (this.instant || !cond || cond.status !== 'True' || cond.reason === 'NewReplicaSetAvailable') return;
    if (deployment.spec.paused || !hasProgressDeadline(deployment)) return;
    const due = Date.parse(cond.lastUpdateTime) + deployment.spec.progressDeadlineSeconds * 1000 + 50;
    const namespace = deployment.metadata.namespace;
    const timer = setTimeout(
      () => {
        this.deadlines.delete(key);
        if (!this.closed) this.queue(namespace);
      },
      Math.max(0, due - Date.now()),
    );
    this.deadlines.set(key, timer);
  }

  private isComplete(deployment: KubeObject): boolean {
    const s = deployment.status ?? {};
    const desired = deployment.spec.replicas;
    return (
      (s.updatedReplicas ?? 0) === desired && (s.replicas ?? 0) === desired && (s.availableReplicas ?? 0) === desired
    );
  }

  /** cleanupDeployment: old, empty ReplicaSets beyond revisionHistoryLimit go, oldest revision first. */
  private cleanupHistory(deployment: KubeObject, newRS: KubeObject): void {
    const limit: number = deployment.spec.revisionHistoryLimit ?? 10;
    const empty = this.ownedReplicaSets(deployment)
      .filter((rs) => rs.metadata.uid !== newRS.metadata.uid && rs.spec.replicas === 0 && !(rs.status?.replicas > 0))
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of empty.slice(0, Math.max(0, empty.length - limit))) {
      this.store.delete('replicasets', rs.metadata.namespace, rs.metadata.name);
    }
  }

  private recordEvent(deployment: KubeObject, reason: string, message: string): void {
    const now = nowIso();
    this.store.create('events', {
      metadata: {
        name: `${deployment.metadata.name}.${randomBytes(8).toString('hex')}`,
        namespace: deployment.metadata.namespace,
      },
      involvedObject: {
        kind: 'Deployment',
        namespace: deployment.metadata.namespace,
        name: deployment.metadata.name,
        uid: deployment.metadata.uid,
        apiVersion: 'apps/v1',
        resourceVersion: deployment.metadata.resourceVersion,
      },
      reason,
      message,
      source: { component: 'deployment-controller' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type: 'Normal',
      reportingComponent: 'deployment-controller',
      reportingInstance: '',
    });
  }

  // ---- replica set controller and kubelet --------------------------------------------------------------

  private syncReplicaSet(rs: KubeObject): void {
    const { namespace } = rs.metadata;
    const owned = () => this.store.list('pods', namespace).filter((p) => controllerUid(p) === rs.metadata.uid);
    const active = owned().filter((p) => !p.metadata.deletionTimestamp);
    const want: number = rs.spec.replicas ?? 1;
    if (active.length < want) {
      for (let i = active.length; i < want; i++) this.startPod(rs);
    } else if (active.length > want) {
      // getPodsToDelete: unready pods first, then the youngest.
      const victims = [...active].sort((a, b) => {
        const readyDiff = Number(isPodReady(a)) - Number(isPodReady(b));
        return readyDiff !== 0 ? readyDiff : byCreation(b, a);
      });
      for (const pod of victims.slice(0, active.length - want)) this.beginTermination(pod);
    }
    const pods = owned().filter((p) => !p.metadata.deletionTimestamp);
    const ready = pods.filter(isPodReady).length;
    const status: KubeObject = {};
    if (pods.length) status.replicas = pods.length;
    if (pods.length) status.fullyLabeledReplicas = pods.length;
    if (ready) status.readyReplicas = ready;
    if (ready) status.availableReplicas = ready;
    status.observedGeneration = rs.metadata.generation;
    if (pods.length === 0) status.replicas = 0;
    const fresh = this.store.get('replicasets', namespace, rs.metadata.name);
    if (fresh && !isDeepStrictEqual(fresh.status ?? {}, status)) {
      this.store.update('replicasets', { ...fresh, status }, { subresource: 'status' });
    }
  }

  private startPod(rs: KubeObject): void {
    const pod = this.store.create('pods', newPod(rs), { keepStatus: true });
    const broken = this.brokenReplicaSets.has(rs.metadata.uid);
    const start = () => {
      const current = this.store.get('pods', pod.metadata.namespace, pod.metadata.name);
      if (!current || current.metadata.deletionTimestamp) return;
      this.store.update('pods', { ...current, status: startedStatus(current, broken) }, { subresource: 'status' });
    };
    if (this.instant) start();
    else if (this.heldPods) this.heldPods.push(start);
    else this.later(this.readyDelayMs, start);
  }

  private beginTermination(pod: KubeObject, gracePeriodSeconds?: number): KubeObject {
    const grace = gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const { namespace, name } = pod.metadata;
    if (this.instant || grace === 0) {
      return this.store.delete('pods', namespace, name);
    }
    const terminating = {
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        deletionGracePeriodSeconds: grace,
      },
    };
    let updated = this.store.update('pods', terminating);
    updated = this.store.update('pods', { ...updated, status: terminatingStatus(updated) }, { subresource: 'status' });
    // Containers stop quickly in the simulator; old pods linger briefly, as "Terminating".
    this.later(Math.max(20, Math.round(this.readyDelayMs / 2)), () => {
      if (this.store.get('pods', namespace, name)) this.store.delete('pods', namespace, name);
    });
    return updated;
  }
}

// ---- helpers ------------------------------------------------------------------------------------------

function controllerUid(object: KubeObject): string | undefined {
  return (object.metadata.ownerReferences ?? []).find((r: KubeObject) => r.controller)?.uid;
}

function ownerReference(apiVersion: string, kind: string, owner: KubeObject): KubeObject {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
}

function byCreation(a: KubeObject, b: KubeObject): number {
  const diff = Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp);
  return diff !== 0 ? diff : Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion);
}

function sum(items: KubeObject[], pick: (item: KubeObject) => number): number {
  return items.reduce((total, item) => total + (pick(item) ?? 0), 0);
}

function withoutHash(template: KubeObject | undefined): KubeObject {
  const copy = clone(template ?? {});
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[HASH_LABEL];
  }
  return copy;
}

function copyDeploymentAnnotations(deployment: KubeObject, target: Record<string, string>): void {
  for (const [k, v] of Object.entries<string>(deployment.metadata.annotations ?? {})) {
    if (!NOT_COPIED.has(k)) target[k] = v;
  }
}

function hasProgressDeadline(deployment: KubeObject): boolean {
  const seconds = deployment.spec.progressDeadlineSeconds;
  return typeof seconds === 'number' && seconds !== NO_PROGRESS_DEADLINE;
}

function progressingCondition(deployment: KubeObject): KubeObject | undefined {
  return (deployment.status?.conditions ?? []).find((c: KubeObject) => c.type === 'Progressing');
}

/** SetDeploymentCondition: same status and reason is no change; same status keeps lastTransitionTime. */
function setCondition(
  conditions: KubeObject[],
  type: string,
  status: string,
  reason: string,
  message: string,
): KubeObject[] {
  const current = conditions.find((c) => c.type === type);
  if (current && current.status === status && current.reason === reason) return conditions;
  const now = nowIso();
  const next = {
    type,
    status,
    lastUpdateTime: now,
    lastTransitionTime: current && current.status === status ? current.lastTransitionTime : now,
    reason,
    message,
  };
  return current ? conditions.map((c) => (c.type === type ? next : c)) : [...conditions, next];
}

function intOrPercent(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) return Number(value) || 0;
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** controller.ComputeHash: FNV-1a 32 over the template (and collision count), SafeEncodeString'd. */
function templateHash(template: KubeObject, collisionCount = 0): string {
  let hash = 0x811c9dc5;
  const text = canonicalJson(template) + (collisionCount ? String(collisionCount) : '');
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return [...String(hash)].map((ch) => SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
