import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
  type V1Secret,
} from '@kubernetes/client-node';
import { RollbackError } from '../../core/errors.js';
import type { Logger } from '../../log.js';

export interface KubeApiOptions {
  /** A kubeconfig context; default: the current one (or the in-cluster service account). */
  context?: string | undefined;
  /** Per call; default 10 s. */
  timeoutMs?: number;
  /** Reads are retried on 429/5xx/network errors this many times; writes never are. */
  readRetries?: number;
  log: Logger;
}

export type JsonPatchOp = { op: 'test' | 'replace' | 'add' | 'remove'; path: string; value?: unknown };

/** Loads credentials the way kubectl does: KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
export function loadKubeConfig(context?: string, file?: string): KubeConfig {
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

function signalMiddleware(signal: AbortSignal): ObservableMiddleware {
  return {
    pre: (request) => {
      request.setSignal(signal);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

function describe(what: string, error: unknown, timedOut: boolean): RollbackError {
  if (timedOut) return new RollbackError('PROVIDER_TIMEOUT', `Kubernetes did not answer in time (${what}).`, { retryable: true, cause: error });
  if (error instanceof ApiException) {
    const body = typeof error.body === 'string' ? safeJson(error.body) : (error.body as { message?: string } | undefined);
    const message = body?.message ?? error.message;
    if (error.code === 404) return new RollbackError('PROVIDER_NOT_FOUND', `Kubernetes says ${what}: not found (${message}).`, { hint: 'Check the namespace and names in rollback.yml.', cause: error });
    if (error.code === 401 || error.code === 403) {
      return new RollbackError('PROVIDER_AUTH', `Kubernetes refused ${what} (HTTP ${error.code}: ${message}).`, {
        hint: 'Check the kubeconfig or service account: it needs get/list/patch on deployments and replicasets, list on pods and secrets.',
        cause: error,
      });
    }
    if (error.code === 409 || error.code === 422) return new RollbackError('PLAN_STALE', `Kubernetes rejected ${what}: ${message}.`, { cause: error });
    if (error.code === 429 || error.code >= 500) return new RollbackError('PROVIDER_UNAVAILABLE', `Kubernetes failed ${what} (HTTP ${error.code}: ${message}).`, { retryable: true, cause: error });
    return new RollbackError('PROVIDER_REJECTED', `Kubernetes rejected ${what} (HTTP ${error.code}: ${message}).`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RollbackError('PROVIDER_UNAVAILABLE', `Kubernetes could not be reached (${what}): ${message}.`, { retryable: true, cause: error });
}

function safeJson(text: string): { message?: string } | undefined {
  try {
    return JSON.parse(text) as { message?: string };
  } catch {
    return undefined;
  }
}

/** The few Kubernetes calls the drivers make, each with a timeout and the caller's abort signal. */
export class KubeApi {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  private readonly timeoutMs: number;
  private readonly readRetries: number;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly options: KubeApiOptions,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.readRetries = options.readRetries ?? 2;
  }

  private async call<T>(what: string, signal: AbortSignal, kind: 'read' | 'write', run: (options: ConfigurationOptions) => Promise<T>, extra?: ConfigurationOptions): Promise<T> {
    const attempts = kind === 'read' ? this.readRetries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const combined = AbortSignal.any([signal, timeout]);
      const options: ConfigurationOptions = {
        ...extra,
        middleware: [...((extra?.middleware as ObservableMiddleware[] | undefined) ?? []), signalMiddleware(combined)],
        middlewareMergeStrategy: 'append',
      };
      const started = performance.now();
      try {
        const result = await run(options);
        this.options.log.debug({ what, ms: Math.round(performance.now() - started) }, 'kubernetes call');
        return result;
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error;
        const coded = describe(what, error, timeout.aborted);
        if (!coded.retryable || attempt >= attempts) throw coded;
        this.options.log.warn({ what, attempt, err: coded.message }, 'kubernetes read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
      }
    }
  }

  getDeployment(namespace: string, name: string, signal: AbortSignal): Promise<V1Deployment> {
    return this.call(`get deployment ${namespace}/${name}`, signal, 'read', (o) => this.apps.readNamespacedDeployment({ name, namespace }, o));
  }

  async listReplicaSets(namespace: string, labelSelector: string, signal: AbortSignal): Promise<V1ReplicaSet[]> {
    const list = await this.call(`list replicasets in ${namespace}`, signal, 'read', (o) => this.apps.listNamespacedReplicaSet({ namespace, labelSelector }, o));
    return list.items;
  }

  async listPods(namespace: string, labelSelector: string, signal: AbortSignal): Promise<V1Pod[]> {
    const list = await this.call(`list pods in ${namespace}`, signal, 'read', (o) => this.core.listNamespacedPod({ namespace, labelSelector }, o));
    return list.items;
  }

  async listSecrets(namespace: string, labelSelector: string, signal: AbortSignal): Promise<V1Secret[]> {
    const list = await this.call(`list secrets in ${namespace}`, signal, 'read', (o) => this.core.listNamespacedSecret({ namespace, labelSelector }, o));
    return list.items;
  }

  patchDeployment(namespace: string, name: string, ops: JsonPatchOp[], signal: AbortSignal): Promise<V1Deployment> {
    return this.call(
      `patch deployment ${namespace}/${name}`,
      signal,
      'write',
      (o) => this.apps.patchNamespacedDeployment({ name, namespace, body: ops }, o),
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  }
}
