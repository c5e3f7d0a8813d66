import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RollbackError } from '../../core/errors.js';

/** Where a pod's service account token is mounted: the in-cluster credentials. */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * A kubeconfig that is not there, with what to do: KUBECONFIG naming no file, or (file unset) no ~/.kube/config
 * outside a cluster, where the Kubernetes client would quietly fall back to http://localhost:8080 and every call
 * fail later with a message about that address instead. Undefined when there is one.
 */
export function kubeconfigProblem(file: string | undefined): RollbackError | undefined {
  if (file) {
    if (existsSync(file)) return undefined;
    return new RollbackError('CONFIG_INVALID', `KUBECONFIG names ${file}, which does not exist.`, {
      hint: "Point KUBECONFIG at your cluster's kubeconfig file (`kubectl config view` shows what kubectl uses), or unset it to use ~/.kube/config.",
    });
  }
  const fallback = join(homedir(), '.kube', 'config');
  if (existsSync(fallback)) return undefined;
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) return undefined;
  return new RollbackError(
    'CONFIG_INVALID',
    `No kubeconfig: ${fallback} does not exist and this is not a pod in a cluster.`,
    {
      hint: `Set KUBECONFIG to your kubeconfig file, or put it at ${fallback} (\`kubectl config view\` shows what kubectl uses); in a cluster, the pod's service account is used.`,
    },
  );
}
