/**
 * An in-process Kubernetes API server for tests and the demo: enough of the API, with a deployment
 * controller and a kubelet, that the real kubectl, the real helm and @kubernetes/client-node work
 * against it unchanged (test/integration/kube-simulator.test.ts proves it with the binaries).
 *
 * HTTPS on 127.0.0.1 with a self-signed certificate (client-go sends bearer tokens only over TLS), token
 * auth, JSON answers (clients that ask for protobuf also accept JSON), protobuf request bodies for the
 * kinds helm writes. Seeding methods settle at once, as if the cluster had been running for a while;
 * changes made through the API roll out in (simulated) real time.
 *
 * What the real clients were seen to ask for (see `requests`):
 *  - kubectl 1.33: aggregated discovery first (answered with legacy documents, which it accepts),
 *    /openapi/v3 before apply (fieldValidation support), /openapi/v2 (a 404 it tolerates), Tables for
 *    `get`, strategic-merge PATCH for apply/set/pause, JSON PATCH for rollout undo, list+watch from a
 *    resourceVersion for rollout status, exec over WebSocket (v5.channel.k8s.io).
 *  - helm 4.1: Secrets with `Accept: application/vnd.kubernetes.protobuf,application/json` and
 *    protobuf POST/PUT bodies; strategic-merge PATCH (or `application/apply-patch+yaml` for releases
 *    it applied server-side); for --wait a watch-list (sendInitialEvents=true, waits for the
 *    initial-events-end bookmark) on Deployments, then ReplicaSets and Pods by label.
 *
 * GitOps (custom-resources.ts, gitops-reconciler.ts): Argo CD's Application and Flux's Kustomization and
 * HelmRelease are served as CRDs once seeded (discovery, get/list/watch, merge and JSON patch, PUT;
 * strategic merge refused with 415 as for any custom resource), and a reconciler puts managed
 * Deployments back to what git says, as the controllers would. test/integration/kube-gitops-simulator.test.ts
 * proves it with kubectl.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { ApiError } from './api-error.js';
import { type ApiContext, discovery, handleResource, parseRoute, readBody } from './api-server.js';
import { CUSTOM_RESOURCE_TYPES } from './custom-resources.js';
import { DeploymentController } from './deployment-controller.js';
import { type ExecHandler, type ExecRequest, type ExecResult, serveExec } from './exec.js';
import { FaultBook, type KubeFault, type KubeFaultSpec } from './faults.js';
import {
  type GitChange,
  type GitDesiredState,
  type GitOpsOwner,
  type GitOpsPassResult,
  GitOpsReconciler,
  randomCommit,
  withOwnerDefaults,
} from './gitops-reconciler.js';
import {
  type HelmReleaseRecord,
  type HelmReleaseSpec,
  readReleaseSecret,
  releaseObject,
  releaseSecret,
  releaseSecretName,
  renderDeployment,
} from './helm-release.js';
import type { FieldManagerWrite } from './managed-fields.js';
import { clone, type KubeObject, ObjectStore } from './object-store.js';
import { openApiGroupVersion, openApiRoot } from './openapi.js';
import { RESOURCE_TYPES, type ResourceType } from './resources.js';
import { parseLabelSelector } from './selectors.js';
import { selfSignedCertificate } from './tls-cert.js';

export type {
  ExecRequest,
  ExecResult,
  GitChange,
  GitDesiredState,
  GitOpsOwner,
  GitOpsPassResult,
  HelmReleaseRecord,
  HelmReleaseSpec,
  KubeFaultSpec,
  KubeObject,
};

export { releaseSecretName };

export interface KubeSimulatorOptions {
  /** How long a new pod takes to become Ready, in ms. Default 200. */
  readyDelayMs?: number;
  /** Added before every answer, in ms. Default 0. */
  latencyMs?: number;
  /**
   * How often the GitOps controllers reconcile, in ms (one interval for all; real Argo CD refreshes every
   * 3 min, Flux at each object's spec.interval). Default 200. The timer runs once something is seeded.
   */
  gitOpsIntervalMs?: number;
}

/** An Argo CD Application (argoproj.io/v1alpha1) as `seedArgoApplication` creates it. */
export interface ArgoApplicationSeed {
  name: string;
  /** Default `argocd`, the control plane's namespace. */
  namespace?: string;
  /** Default `default`. */
  project?: string;
  /** Default: a git repository, path = the app's name, targetRevision HEAD. */
  source?: { repoURL: string; path?: string; targetRevision?: string };
  /** Default: the in-cluster server, namespace `default`. */
  destination?: { server?: string; name?: string; namespace?: string };
  /** `spec.syncPolicy.automated`; omitted, the Application syncs only by hand (and never self-heals). */
  automated?: { prune?: boolean; selfHeal?: boolean; enabled?: boolean };
  /** The commit git is at; default a random SHA. */
  revision?: string;
}

/** A Flux Kustomization (kustomize.toolkit.fluxcd.io/v1) as `seedFluxKustomization` creates it. */
export interface FluxKustomizationSeed {
  name: string;
  /** Default `flux-system`. */
  namespace?: string;
  /** Default `10m`. */
  interval?: string;
  suspend?: boolean;
  /** Default `./<name>`. */
  path?: string;
  /** Default true. */
  prune?: boolean;
  /** Default the `flux-system` GitRepository. */
  sourceRef?: { kind: string; name: string; namespace?: string };
  targetNamespace?: string;
  /** The commit git is at; default a random SHA. */
  revision?: string;
}

/** A Flux HelmRelease (helm.toolkit.fluxcd.io/v2) as `seedFluxHelmRelease` creates it. */
export interface FluxHelmReleaseSeed {
  name: string;
  /** Default `flux-system`. */
  namespace?: string;
  /** Default `10m`. */
  interval?: string;
  suspend?: boolean;
  releaseName?: string;
  targetNamespace?: string;
  /** Default: chart = the release's name, version 1.0.0, from a HelmRepository of that name. */
  chart?: { chart: string; version: string; sourceRef?: { kind: string; name: string; namespace?: string } };
  /**
   * `spec.driftDetection.mode`. This helper defaults to `enabled` (a HelmRelease that corrects drift); the
   * CRD's own default, when the field is absent, is `disabled`: pass `disabled` to model that.
   */
  driftDetection?: 'enabled' | 'warn' | 'disabled';
}

export interface KubeRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  accept?: string;
  userAgent?: string;
  /** 0 while unanswered (a held request stays 0). */
  status: number;
  /** When the request arrived (Date.now()). */
  at: number;
  /** The injected fault that answered it, if any: "503", "503 after", "held". */
  fault?: string;
}

const UNAUTHENTICATED_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);

export class KubeSimulator {
  readonly token = `sim-${randomBytes(16).toString('hex')}`;
  readonly requests: KubeRequestRecord[] = [];
  /** PEM of the server's self-signed certificate, which is its own CA. */
  readonly caCert: string;
  private readonly tlsKey: string;
  private readonly store = new ObjectStore();
  private readonly controller: DeploymentController;
  private readonly faults = new FaultBook();
  private readonly templateChanges = new Map<string, number>();
  private readonly watches = new Set<() => void>();
  private readonly installedCrds = new Set<'argocd' | 'flux'>();
  private readonly gitops: GitOpsReconciler;
  private execHandler: ExecHandler | undefined;
  private latencyMs: number;
  private server!: https.Server;
  private baseUrl = '';

  private constructor(options: KubeSimulatorOptions) {
    this.controller = new DeploymentController(this.store, options.readyDelayMs ?? 200);
    this.latencyMs = options.latencyMs ?? 0;
    this.gitops = new GitOpsReconciler(this.store, options.gitOpsIntervalMs ?? 200);
    const { cert, key } = selfSignedCertificate();
    this.caCert = cert;
    this.tlsKey = key;
    this.createNamespace('default');
    this.createNamespace('kube-system');
    this.countTemplateChanges();
  }

  /** Every change of a Deployment's pod template, however it came (a rollback applied twice counts twice). */
  private countTemplateChanges(): void {
    const last = new Map<string, string>();
    this.store.subscribe((e) => {
      if (e.resource !== 'deployments' || e.type === 'DELETED') return;
      const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
      const template = JSON.stringify(e.object.spec?.template ?? null);
      const before = last.get(key);
      last.set(key, template);
      if (before !== undefined && before !== template)
        this.templateChanges.set(key, (this.templateChanges.get(key) ?? 0) + 1);
    });
  }

  static async start(options: KubeSimulatorOptions = {}): Promise<KubeSimulator> {
    const sim = new KubeSimulator(options);
    sim.server = https.createServer({ cert: sim.caCert, key: sim.tlsKey }, (req, res) => {
      sim.handle(req, res).catch((error: unknown) => sim.fail(res, error));
    });
    sim.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      sim.handleUpgrade(req, socket).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve) => sim.server.listen(0, '127.0.0.1', resolve));
    const { port } = sim.server.address() as AddressInfo;
    sim.baseUrl = `https://127.0.0.1:${port}`;
    return sim;
  }

  get url(): string {
    return this.baseUrl;
  }

  /**
   * Writes a kubeconfig (cluster, user and context "sim", token auth) and returns its path. `context`
   * names the context otherwise; `server` points it at another API server (another cluster).
   */
  writeKubeconfig(
    dir: string = mkdtempSync(path.join(os.tmpdir(), 'kube-sim-')),
    options: { context?: string; server?: string } = {},
  ): string {
    const file = path.join(dir, 'kubeconfig');
    const context = options.context ?? 'sim';
    const yaml = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: sim',
      '  cluster:',
      `    server: ${options.server ?? this.baseUrl}`,
      `    certificate-authority-data: ${Buffer.from(this.caCert).toString('base64')}`,
      'contexts:',
      `- name: ${context}`,
      '  context:',
      '    cluster: sim',
      '    user: sim',
      `current-context: ${context}`,
      'users:',
      '- name: sim',
      '  user:',
      `    token: ${this.token}`,
      '',
    ].join('\n');
    writeFileSync(file, yaml, { mode: 0o600 });
    // helm warns about group- or world-readable kubeconfigs; keep it private even under a loose umask.
    chmodSync(file, 0o600);
    return file;
  }

  // ---- seeding -----------------------------------------------------------------------------------------

  createNamespace(name: string): void {
    if (!this.store.get('namespaces', undefined, name)) this.store.create('namespaces', { metadata: { name } });
  }

  /**
   * Applies a Deployment as `kubectl apply` would (create, or replace the spec and merge labels and
   * annotations, recording last-applied-configuration); the controllers then settle at once.
   */
  applyDeployment(namespace: string, deployment: object): void {
    const input = clone(deployment) as KubeObject;
    const lastApplied = JSON.stringify({ ...input, metadata: { ...input.metadata, namespace } });
    input.metadata = {
      ...(input.metadata ?? {}),
      annotations: {
        ...(input.metadata?.annotations ?? {}),
        'kubectl.kubernetes.io/last-applied-configuration': lastApplied,
      },
    };
    // As `kubectl apply` writes it: the API server records the write in managedFields, with its time.
    this.upsertDeployment(namespace, input, { manager: 'kubectl-client-side-apply', operation: 'Update' });
  }

  /**
   * Seeds a Helm release history the way helm stores it (see helm-release.ts). Each revision's
   * Deployment is applied in order up to the `deployed` one, so the cluster (ReplicaSets with their
   * revisions, pods) matches the deployed revision; revisions after it are history only.
   */
  seedHelmRelease(spec: HelmReleaseSpec): void {
    this.createNamespace(spec.namespace);
    const count = spec.revisions.length;
    const deployedIndex = spec.revisions.map((r) => r.status).lastIndexOf('deployed');
    const lastApplied = deployedIndex >= 0 ? deployedIndex : count - 1;
    const firstDeployed = new Date(Date.now() - count * 3600_000);
    spec.revisions.forEach((revision, index) => {
      const at = new Date(firstDeployed.getTime() + index * 3600_000);
      const release = releaseObject(spec, index, firstDeployed, at);
      const pending = revision.status.startsWith('pending-');
      const name = releaseSecretName(spec.name, index + 1);
      const existing = this.store.get('secrets', spec.namespace, name);
      if (existing) this.store.delete('secrets', spec.namespace, name);
      this.store.create('secrets', releaseSecret(release, spec.namespace, pending ? undefined : at));
      if (index <= lastApplied) this.upsertDeployment(spec.namespace, renderDeployment(spec, revision));
    });
  }

  private upsertDeployment(namespace: string, input: KubeObject, manager?: FieldManagerWrite): void {
    this.createNamespace(namespace);
    const name: string = input.metadata?.name;
    if (!name) throw new Error('kube-simulator: a Deployment needs metadata.name');
    const existing = this.store.get('deployments', namespace, name);
    if (!existing) {
      this.store.create('deployments', { ...input, metadata: { ...input.metadata, namespace } }, { manager });
    } else {
      const next = clone(existing);
      next.metadata.labels = { ...(existing.metadata.labels ?? {}), ...(input.metadata.labels ?? {}) };
      next.metadata.annotations = { ...(existing.metadata.annotations ?? {}), ...(input.metadata.annotations ?? {}) };
      next.spec = clone(input.spec);
      this.store.update('deployments', next, { manager });
    }
    this.controller.settle(namespace);
  }

  /**
   * Changes a stored Deployment as a client's write through the API would (`kubectl set image`, `kubectl
   * edit`): a new resourceVersion, the generation bumped when the spec changed, and the controllers
   * react as usual (unless stalled). Unlike the seeding methods, nothing is settled at once.
   */
  editDeployment(namespace: string, name: string, edit: (deployment: KubeObject) => void): KubeObject {
    const next = clone(this.store.mustGet('deployments', namespace, name));
    edit(next);
    return this.store.update('deployments', next);
  }

  // ---- GitOps ------------------------------------------------------------------------------------------

  /**
   * Installs the CRDs of a GitOps stack (Argo CD: applications.argoproj.io; Flux: kustomizations and
   * helmreleases): from then on discovery lists them and their endpoints answer. The seed methods do it.
   */
  installCrds(stack: 'argocd' | 'flux'): void {
    this.installedCrds.add(stack);
  }

  /** Creates an Argo CD Application (CRD installed, namespace created); its status is written at once. */
  seedArgoApplication(seed: ArgoApplicationSeed): KubeObject {
    const owner = withOwnerDefaults({
      kind: 'Application',
      name: seed.name,
      ...(seed.namespace ? { namespace: seed.namespace } : {}),
    });
    this.installCrds('argocd');
    this.createNamespace(owner.namespace);
    this.store.create(
      'applications',
      {
        metadata: { name: seed.name, namespace: owner.namespace },
        spec: {
          project: seed.project ?? 'default',
          source: {
            repoURL: 'https://git.example.com/platform/deploy.git',
            path: seed.name,
            targetRevision: 'HEAD',
            ...seed.source,
          },
          destination: { server: 'https://kubernetes.default.svc', namespace: 'default', ...seed.destination },
          ...(seed.automated ? { syncPolicy: { automated: { ...seed.automated } } } : {}),
        },
      },
      { manager: { manager: 'kubectl-client-side-apply', operation: 'Update' } },
    );
    return this.registerGitOpsOwner(owner, seed.revision ?? randomCommit());
  }

  /** Creates a Flux Kustomization (CRDs installed, namespace created); its status is written at once. */
  seedFluxKustomization(seed: FluxKustomizationSeed): KubeObject {
    const owner = withOwnerDefaults({
      kind: 'Kustomization',
      name: seed.name,
      ...(seed.namespace ? { namespace: seed.namespace } : {}),
    });
    this.installCrds('flux');
    this.createNamespace(owner.namespace);
    this.store.create(
      'kustomizations',
      {
        metadata: { name: seed.name, namespace: owner.namespace },
        spec: {
          interval: seed.interval ?? '10m',
          path: seed.path ?? `./${seed.name}`,
          prune: seed.prune ?? true,
          sourceRef: seed.sourceRef ?? { kind: 'GitRepository', name: 'flux-system' },
          ...(seed.suspend !== undefined ? { suspend: seed.suspend } : {}),
          ...(seed.targetNamespace ? { targetNamespace: seed.targetNamespace } : {}),
        },
      },
      { manager: { manager: 'kustomize-controller', operation: 'Apply' } },
    );
    return this.registerGitOpsOwner(owner, seed.revision ?? randomCommit());
  }

  /** Creates a Flux HelmRelease (CRDs installed, namespace created); its status is written at once. */
  seedFluxHelmRelease(seed: FluxHelmReleaseSeed): KubeObject {
    const owner = withOwnerDefaults({
      kind: 'HelmRelease',
      name: seed.name,
      ...(seed.namespace ? { namespace: seed.namespace } : {}),
    });
    this.installCrds('flux');
    this.createNamespace(owner.namespace);
    const chart = seed.chart ?? { chart: seed.name, version: '1.0.0' };
    this.store.create(
      'helmreleases',
      {
        metadata: { name: seed.name, namespace: owner.namespace },
        spec: {
          interval: seed.interval ?? '10m',
          chart: {
            spec: {
              chart: chart.chart,
              version: chart.version,
              sourceRef: chart.sourceRef ?? { kind: 'HelmRepository', name: chart.chart },
            },
          },
          driftDetection: { mode: seed.driftDetection ?? 'enabled' },
          ...(seed.suspend !== undefined ? { suspend: seed.suspend } : {}),
          ...(seed.releaseName ? { releaseName: seed.releaseName } : {}),
          ...(seed.targetNamespace ? { targetNamespace: seed.targetNamespace } : {}),
        },
      },
      { manager: { manager: 'kustomize-controller', operation: 'Apply' } },
    );
    return this.registerGitOpsOwner(owner, chart.version);
  }

  private registerGitOpsOwner(owner: Required<GitOpsOwner>, revision: string): KubeObject {
    this.gitops.registerOwner(owner, revision);
    this.gitops.reconcileNow();
    return this.store.mustGet(
      owner.kind === 'Application'
        ? 'applications'
        : owner.kind === 'Kustomization'
          ? 'kustomizations'
          : 'helmreleases',
      owner.namespace,
      owner.name,
    );
  }

  /**
   * Puts an existing Deployment under a seeded Application, Kustomization or HelmRelease: Argo CD's
   * tracking annotation or Flux's owner labels, the controller as the manager of its fields, and what
   * git says about it (`desired`, by default its live template). From now on the reconciler keeps it
   * there (see gitops-reconciler.ts for when each controller does).
   */
  manageDeployment(namespace: string, name: string, owner: GitOpsOwner, desired?: Partial<GitDesiredState>): void {
    const full = withOwnerDefaults(owner);
    const resource =
      full.kind === 'Application' ? 'applications' : full.kind === 'Kustomization' ? 'kustomizations' : 'helmreleases';
    if (!this.store.get(resource, full.namespace, full.name)) {
      throw new Error(`kube-simulator: seed the ${full.kind} ${full.namespace}/${full.name} before managing with it`);
    }
    this.gitops.manage(namespace, name, full, desired);
    this.gitops.reconcileNow();
  }

  /**
   * A new commit changes what git says about a managed Deployment (a new image, template or replica
   * count); the controller deploys it on its next pass, if it would (not when suspended; for an
   * Application, only with automated sync). Returns the new revision (a commit SHA, or `change.revision`).
   */
  gitSays(namespace: string, name: string, change: GitChange): string {
    return this.gitops.gitSays(namespace, name, change);
  }

  /** What git says about a managed Deployment now. */
  gitDesired(namespace: string, name: string): GitDesiredState | undefined {
    return this.gitops.desired(namespace, name);
  }

  /** Runs one pass of the GitOps controllers now, and says what it wrote back. */
  reconcileNow(): GitOpsPassResult {
    return this.gitops.reconcileNow();
  }

  /** Changes how often the GitOps controllers reconcile, in ms. */
  setGitOpsInterval(ms: number): void {
    this.gitops.setInterval(ms);
  }

  /** GitOps passes run so far: wait for it to grow rather than sleep. */
  get gitOpsPasses(): number {
    return this.gitops.passes;
  }

  /** A stored custom resource: `applications`, `kustomizations` or `helmreleases`. */
  customResource(
    resource: 'applications' | 'kustomizations' | 'helmreleases',
    namespace: string,
    name: string,
  ): KubeObject | undefined {
    return this.store.get(resource, namespace, name);
  }

  /** The built-in kinds plus the custom resources whose CRDs are installed. */
  private servedTypes(): ResourceType[] {
    return [
      ...RESOURCE_TYPES,
      ...CUSTOM_RESOURCE_TYPES.filter((t) => t.custom && this.installedCrds.has(t.custom.stack)),
    ];
  }

  // ---- inspection -----------------------------------------------------------------------------------

  deployment(namespace: string, name: string): KubeObject | undefined {
    return this.store.get('deployments', namespace, name);
  }

  replicaSets(namespace: string): KubeObject[] {
    return this.store.list('replicasets', namespace);
  }

  /** Pods matching a label selector, terminating ones included (they carry metadata.deletionTimestamp). */
  pods(namespace: string, selector?: string): KubeObject[] {
    const matches = parseLabelSelector(selector);
    return this.store.list('pods', namespace).filter((p) => matches(p.metadata.labels));
  }

  /** How many times the Deployment's pod template changed since it was created (seeding included). */
  deploymentTemplateChanges(namespace: string, name: string): number {
    return this.templateChanges.get(`${namespace}/${name}`) ?? 0;
  }

  secrets(namespace: string): KubeObject[] {
    return this.store.list('secrets', namespace);
  }

  /** The decoded release history of `name`, oldest first. */
  helmReleases(namespace: string, name: string): HelmReleaseRecord[] {
    return this.secrets(namespace)
      .filter((s) => s.metadata.labels?.owner === 'helm' && s.metadata.labels?.name === name)
      .map(readReleaseSecret)
      .sort((a, b) => a.version - b.version);
  }

  // ---- fault injection -----------------------------------------------------------------------------

  /** The next rollout of this Deployment never becomes Ready; after progressDeadlineSeconds it fails. */
  failProgress(namespace: string, name: string): void {
    this.controller.failProgress(namespace, name);
  }

  /**
   * The next `count` requests that match are answered `status` (default 503) with `headers`, before the
   * API server acts or, with `phase: 'after'` (resource requests, not watches), after it did; or held
   * unanswered (`hang`). Exec upgrades take `before` faults only. See faults.ts.
   */
  injectFaults(spec: KubeFaultSpec): void {
    this.faults.add(spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * The deployment and replica-set controllers stop reacting until `resumeControllers()`: a template
   * changed meanwhile (`kubectl set image`) is stored but not yet observed, as on a real cluster in the
   * moment before the controller acts (see DeploymentController.stall).
   */
  stallControllers(): void {
    this.controller.stall();
  }

  resumeControllers(): void {
    this.controller.resume();
  }

  /** New pods stay unstarted until releasePodStarts(): a rollout waits for the test (e.g. until a watcher is on). */
  holdPodStarts(): void {
    this.controller.holdPods();
  }

  releasePodStarts(): void {
    this.controller.releasePods();
  }

  /** Whether a client watches the Deployment `name` (a request with watch=true for it arrived since `since`). */
  watching(kind: 'deployments', name: string, since = 0): boolean {
    return this.requests.some(
      (r) =>
        r.at >= since &&
        r.query.watch === 'true' &&
        r.path.includes(`/${kind}`) &&
        (r.path.endsWith(`/${kind}/${name}`) || (r.query.fieldSelector ?? '').includes(`metadata.name=${name}`)),
    );
  }

  setReadyDelay(ms: number): void {
    this.controller.readyDelayMs = ms;
  }

  /** Answers the Exec API (pods/<name>/exec over WebSocket); without a handler every exec exits 126. */
  onExec(handler: (req: ExecRequest) => ExecResult | Promise<ExecResult>): void {
    this.execHandler = handler;
  }

  async close(): Promise<void> {
    for (const stop of [...this.watches]) stop();
    this.gitops.close();
    this.controller.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------

  private context(): ApiContext {
    return {
      store: this.store,
      controller: this.controller,
      serverAddress: this.baseUrl.replace(/^https:\/\//, ''),
      trackWatch: (stop) => {
        this.watches.add(stop);
        return () => this.watches.delete(stop);
      },
      types: this.servedTypes(),
    };
  }

  private record(req: IncomingMessage, url: URL): KubeRequestRecord {
    const entry: KubeRequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      at: Date.now(),
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      ...(req.headers.accept ? { accept: req.headers.accept } : {}),
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
    };
    this.requests.push(entry);
    return entry;
  }

  /** Auth, shared by plain requests and upgrades. */
  private gate(req: IncomingMessage, url: URL): ApiError | undefined {
    if (!UNAUTHENTICATED_PATHS.has(url.pathname) && req.headers.authorization !== `Bearer ${this.token}`) {
      return new ApiError(401, 'Unauthorized', 'Unauthorized');
    }
    return undefined;
  }

  private takeFault(req: IncomingMessage, url: URL, entry: KubeRequestRecord): KubeFault | undefined {
    const fault = this.faults.take({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      userAgent: req.headers['user-agent'],
    });
    if (fault) entry.fault = fault.label;
    return fault;
  }

  /** Answers with an injected fault, or holds the request: nothing is written, the client times out. */
  private sendFault(res: ServerResponse, entry: KubeRequestRecord, fault: KubeFault): void {
    if (fault.hang) return;
    this.send(res, entry, fault.error.code, fault.error.toStatus(), fault.headers);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry = this.record(req, url);
    res.on('finish', () => {
      if (entry.status === 0) entry.status = res.statusCode;
    });
    const body = await readBody(req);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const denied = this.gate(req, url);
    if (denied) return this.send(res, entry, denied.code, denied.toStatus());
    const fault = this.takeFault(req, url, entry);
    if (fault?.phase === 'before') return this.sendFault(res, entry, fault);

    if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
      entry.status = 200;
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    if (url.pathname === '/openapi/v3' || url.pathname.startsWith('/openapi/v3/')) {
      const types = this.servedTypes();
      const doc =
        url.pathname === '/openapi/v3'
          ? openApiRoot(types)
          : openApiGroupVersion(url.pathname.slice('/openapi/v3/'.length), types);
      return doc ? this.send(res, entry, 200, doc) : this.notFound(res, entry);
    }
    const route = parseRoute(url.pathname, this.servedTypes());
    if (route === 'discovery' || url.pathname.startsWith('/version')) {
      const doc = discovery(url.pathname, this.context().serverAddress, this.servedTypes());
      if (doc && req.method === 'GET') return this.send(res, entry, 200, doc);
      return this.notFound(res, entry);
    }
    if (!route) return this.notFound(res, entry);
    try {
      const reply = await handleResource(this.context(), route, req, res, url.searchParams, body);
      if (!reply) {
        entry.status = 200; // a watch: the stream is open
        return;
      }
      if (fault) return this.sendFault(res, entry, fault); // carried out, then answered with the fault
      if (typeof reply.body === 'string') {
        entry.status = reply.status;
        res.writeHead(reply.status, { 'Content-Type': 'text/plain' }).end(reply.body);
        return;
      }
      this.send(res, entry, reply.status, reply.body);
    } catch (error) {
      if (fault) return this.sendFault(res, entry, fault);
      this.fail(res, error, entry);
    }
  }

  private async handleUpgrade(req: IncomingMessage, socket: Duplex): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry = this.record(req, url);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const denied = this.gate(req, url) ?? this.takeFault(req, url, entry)?.error;
    const route = parseRoute(url.pathname);
    const reject = (error: ApiError): void => {
      entry.status = error.code;
      const body = JSON.stringify(error.toStatus());
      socket.end(
        `HTTP/1.1 ${error.code} ${error.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (denied) return reject(denied);
    if (!route || route === 'discovery' || route.type.name !== 'pods' || route.subresource !== 'exec' || !route.name) {
      return reject(new ApiError(404, 'NotFound', 'the server could not find the requested resource'));
    }
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return reject(
        new ApiError(
          400,
          'BadRequest',
          `the kube simulator speaks WebSocket for exec, not ${String(req.headers.upgrade)}`,
        ),
      );
    }
    entry.status = await serveExec(
      this.store,
      this.execHandler,
      req,
      socket,
      { namespace: route.namespace as string, pod: route.name },
      url.searchParams,
    );
  }

  private send(
    res: ServerResponse,
    entry: KubeRequestRecord,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    entry.status = status;
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private notFound(res: ServerResponse, entry: KubeRequestRecord): void {
    const error = new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    this.send(res, entry, 404, error.toStatus());
  }

  private fail(res: ServerResponse, error: unknown, entry?: KubeRequestRecord): void {
    const apiError =
      error instanceof ApiError
        ? error
        : new ApiError(500, 'InternalError', `kube-simulator: ${(error as Error)?.stack ?? String(error)}`);
    if (entry) this.send(res, entry, apiError.code, apiError.toStatus());
    else if (!res.headersSent)
      res.writeHead(apiError.code, { 'Content-Type': 'application/json' }).end(JSON.stringify(apiError.toStatus()));
  }
}
