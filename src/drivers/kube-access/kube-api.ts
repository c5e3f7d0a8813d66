import {
  AppsV1Api,
  type ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
  type V1Secret,
} from '@kubernetes/client-node';
import { sleep as abortableSleep, abortReason } from '../../core/abortable.js';
import { RollbackError } from '../../core/errors.js';
import type { ProviderCall } from '../../core/ports/driver.js';
import type { Logger } from '../../log.js';
import { withRetries } from '../shared/backoff.js';
import { kubeconfigProblem } from './kubeconfig-file.js';
import {
  classify,
  failuresText,
  type KubeFailure,
  MAX_WAIT_MS,
  RATE_LIMIT_HINT,
  READ_ATTEMPTS,
  refusal,
  seconds,
  transient,
  UNAVAILABLE_HINT,
  waitBefore,
} from './retry.js';

export interface KubeApiOptions {
  /** A kubeconfig context; default: the current one (or the in-cluster service account). */
  context?: string | undefined;
  /** Per call; default 10 s. */
  timeoutMs?: number;
  log: Logger;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told of every exchange with the API server (the bot's metrics). */
  observeCall?: ((call: ProviderCall) => void) | undefined;
}

export type JsonPatchOp = { op: 'test' | 'replace' | 'add' | 'remove'; path: string; value?: unknown };

/** A namespaced custom resource (an Argo CD Application, a Flux Kustomization or HelmRelease). */
export interface CustomObjectRef {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
}

/** A custom resource's patch: JSON patch (a list of ops) or JSON merge patch (an object). CRDs take no strategic merge. */
export type CustomPatch = { type: 'json'; ops: JsonPatchOp[] } | { type: 'merge'; body: Record<string, unknown> };

/** Who the API server records in metadata.managedFields for the bot's writes. */
export const FIELD_MANAGER = 'rapid-rollback';

/** One exchange with the API server: what it answered, or how it failed. */
export type Exchange<T> = { ok: true; value: T } | { ok: false; failure: KubeFailure; error: unknown };

/** Loads credentials the way kubectl does: KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
export function loadKubeConfig(context?: string, file?: string): KubeConfig {
  // A KUBECONFIG that names no file is refused here, with what to do; no file at all is doctor's to say,
  // so that a bot or CLI with Fastly targets beside the Kubernetes ones still starts (doctor-checks.ts).
  const missing = file ? kubeconfigProblem(file) : undefined;
  if (missing) throw missing;
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  if (context) {
    if (!kc.getContextObject(context)) {
      throw new RollbackError('CONFIG_INVALID', `The kubeconfig has no context "${context}".`, {
        hint: `Check \`context:\` in rollback.yml against \`kubectl config get-contexts\` (KUBECONFIG=${file ?? '~/.kube/config'}).`,
      });
    }
    kc.setCurrentContext(context);
  }
  return kc;
}

/**
 * The cluster a kubeconfig's current context points at, for identities: its API server URL, normalised
 * (scheme and host in lower case, no default port, no trailing slash), so the same cluster reached
 * through two context names or files is one cluster, and one context name in two files naming
 * different servers is two.
 */
function clusterOf(kubeConfig: KubeConfig): string {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) {
    throw new RollbackError(
      'CONFIG_INVALID',
      `The kubeconfig's context "${kubeConfig.getCurrentContext()}" names no cluster with a server.`,
      {
        hint: 'Check the context against `kubectl config view --minify`.',
      },
    );
  }
  try {
    const url = new URL(server);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return server.replace(/\/+$/, '');
  }
}

function signalMiddleware(signal: AbortSignal): ObservableMiddleware {
  return {
    pre: (request) => {
      request.setSignal(signal);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

/**
 * The Kubernetes calls the drivers make, each with a timeout and the caller's abort signal. Reads are
 * tried up to READ_ATTEMPTS times on 429, 5xx, no answer or a dropped connection, waiting as Retry-After
 * asks (up to MAX_WAIT_MS) or with backoff, then fail with a coded error that says what the API server
 * did. `sendPatch` sends once and never again: whoever writes decides, after reading back, whether a
 * second send is safe (the Kubernetes driver's guarded-patch.ts).
 */
export class KubeApi {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  /** The API server's URL, for messages. */
  readonly server: string;
  /** The cluster, for identities (clusterOf). */
  readonly cluster: string;
  readonly timeoutMs: number;
  readonly log: Logger;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly observeCall: ((call: ProviderCall) => void) | undefined;

  constructor(
    readonly kubeConfig: KubeConfig,
    options: KubeApiOptions,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.server = kubeConfig.getCurrentCluster()?.server ?? 'the current context';
    this.cluster = clusterOf(kubeConfig);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.log = options.log;
    this.sleep = options.sleep ?? abortableSleep;
    this.observeCall = options.observeCall;
  }

  /** One try, bounded by timeoutMs and the signal; resolves with the answer or the failure. */
  async exchange<T>(
    what: string,
    signal: AbortSignal,
    run: (options: ConfigurationOptions) => Promise<T>,
    extra?: ConfigurationOptions,
  ): Promise<Exchange<T>> {
    if (signal.aborted) throw abortReason(signal);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const options: ConfigurationOptions = {
      ...extra,
      middleware: [
        ...((extra?.middleware as ObservableMiddleware[] | undefined) ?? []),
        signalMiddleware(AbortSignal.any([signal, timeout])),
      ],
      middlewareMergeStrategy: 'append',
    };
    const started = performance.now();
    try {
      const value = await run(options);
      // The generated client resolves only for a 2xx answer and does not say which.
      this.observeCall?.({ provider: 'kubernetes', status: 200 });
      this.log.debug({ what, ms: Math.round(performance.now() - started) }, 'kubernetes call');
      return { ok: true, value };
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      const failure = classify(error, timeout.aborted, this.timeoutMs);
      this.observeCall?.(
        failure.kind === 'http'
          ? { provider: 'kubernetes', status: failure.status }
          : { provider: 'kubernetes', noAnswer: true },
      );
      this.log.debug({ what, ms: Math.round(performance.now() - started), failure }, 'kubernetes call failed');
      return { ok: false, failure, error };
    }
  }

  /** A read, tried again on transient failures; see the class comment. */
  private read<T>(what: string, signal: AbortSignal, run: (options: ConfigurationOptions) => Promise<T>): Promise<T> {
    const started = performance.now();
    const failures: KubeFailure[] = [];
    return withRetries(
      async () => {
        const result = await this.exchange(what, signal, run);
        if (result.ok) return result;
        failures.push(result.failure);
        return { ok: false, failure: result };
      },
      ({ failure, error }, attempt) => {
        if (failure.kind === 'http' && !transient(failure)) return { error: refusal(what, failure, error) };
        const waitMs = waitBefore(failure, attempt);
        if (failure.kind === 'http' && failure.status === 429 && waitMs > MAX_WAIT_MS) {
          return {
            error: new RollbackError(
              'PROVIDER_RATE_LIMITED',
              `The Kubernetes API at ${this.server} is rate-limiting (HTTP 429) and asks to wait ${seconds(waitMs)} before trying to ${what} again.`,
              { hint: RATE_LIMIT_HINT, retryable: true, cause: error, details: { what, attempts: attempt } },
            ),
          };
        }
        if (attempt >= READ_ATTEMPTS) {
          return { error: this.unavailable(what, failures, performance.now() - started, error) };
        }
        this.log.warn({ what, attempt, failure, waitMs }, 'kubernetes read failed; trying again');
        return { waitMs };
      },
      { signal, sleep: this.sleep },
    );
  }

  /** The error after the last try: what the API server did, each time, and what to check. */
  unavailable(what: string, failures: KubeFailure[], elapsedMs: number, cause?: unknown): RollbackError {
    const last = failures[failures.length - 1];
    const limited = last?.kind === 'http' && last.status === 429;
    return new RollbackError(
      limited ? 'PROVIDER_RATE_LIMITED' : last?.kind === 'timeout' ? 'PROVIDER_TIMEOUT' : 'PROVIDER_UNAVAILABLE',
      `The Kubernetes API at ${this.server} ${failuresText(failures, elapsedMs)} when trying to ${what}.`,
      {
        hint: limited ? RATE_LIMIT_HINT : UNAVAILABLE_HINT,
        retryable: true,
        cause,
        details: { what, attempts: failures.length },
      },
    );
  }

  getDeployment(namespace: string, name: string, signal: AbortSignal): Promise<V1Deployment> {
    return this.read(`read deployment ${namespace}/${name}`, signal, (o) =>
      this.apps.readNamespacedDeployment({ name, namespace }, o),
    );
  }

  async listReplicaSets(namespace: string, labelSelector: string, signal: AbortSignal): Promise<V1ReplicaSet[]> {
    const list = await this.read(`list replicasets in ${namespace}`, signal, (o) =>
      this.apps.listNamespacedReplicaSet({ namespace, labelSelector }, o),
    );
    return list.items;
  }

  async listPods(namespace: string, labelSelector: string, signal: AbortSignal): Promise<V1Pod[]> {
    const list = await this.read(`list pods in ${namespace}`, signal, (o) =>
      this.core.listNamespacedPod({ namespace, labelSelector }, o),
    );
    return list.items;
  }

  async listSecrets(namespace: string, labelSelector: string, signal: AbortSignal): Promise<V1Secret[]> {
    const list = await this.read(`list secrets in ${namespace}`, signal, (o) =>
      this.core.listNamespacedSecret({ namespace, labelSelector }, o),
    );
    return list.items;
  }

  /** A custom resource as the API server returns it; the caller parses it. */
  getCustomObject(ref: CustomObjectRef, signal: AbortSignal): Promise<unknown> {
    return this.read(`read ${ref.plural}.${ref.group} ${ref.namespace}/${ref.name}`, signal, (o) =>
      this.custom.getNamespacedCustomObject(ref, o),
    );
  }

  /** One PATCH of a custom resource, sent once: the caller decides whether a second send is safe. */
  sendCustomPatch(ref: CustomObjectRef, patch: CustomPatch, signal: AbortSignal): Promise<Exchange<unknown>> {
    return this.exchange(
      `patch ${ref.plural}.${ref.group} ${ref.namespace}/${ref.name}`,
      signal,
      (o) =>
        this.custom.patchNamespacedCustomObject(
          { ...ref, body: patch.type === 'json' ? patch.ops : patch.body, fieldManager: FIELD_MANAGER },
          o,
        ),
      setHeaderOptions('Content-Type', patch.type === 'json' ? PatchStrategy.JsonPatch : PatchStrategy.MergePatch),
    );
  }

  /** One JSON-patch PATCH of a Deployment, sent once: no retry here. */
  sendPatch(namespace: string, name: string, ops: JsonPatchOp[], signal: AbortSignal): Promise<Exchange<V1Deployment>> {
    return this.exchange(
      `patch deployment ${namespace}/${name}`,
      signal,
      (o) => this.apps.patchNamespacedDeployment({ name, namespace, body: ops, fieldManager: FIELD_MANAGER }, o),
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  }
}
