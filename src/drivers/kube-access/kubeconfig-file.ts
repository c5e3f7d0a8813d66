import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RollbackError } from '../../core/errors.js';

/** Where a pod's service account token is mounted: the in-cluster credentials. */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Refuses, with what to do, a kubeconfig that is not there: KUBECONFIG naming no file, or no ~/.kube/config outside
 * a cluster. The Kubernetes client would fall back to http://localhost:8080, and every Kubernetes call would fail
 * later with a message about that address instead.
 */
export function assertKubeconfigExists(file: string | undefined): void {
  if (file) {
    if (existsSync(file)) return;
    throw new RollbackError('CONFIG_INVALID', `KUBECONFIG names ${file}, which does not exist.`, {
      hint: "Point KUBECONFIG at your cluster's kubeconfig file (`kubectl config view` shows what kubectl uses), or unset it to use ~/.kube/config.",
    });
  }
  const fallback = join(homedir(), '.kube', 'config');
  if (existsSync(fallback)) return;
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) return;
  throw new RollbackError(
    'CONFIG_INVALID',
    `No kubeconfig: ${fallback} does not exist and this is not a pod in a cluster.`,
    {
      hint: `Set KUBECONFIG to your kubeconfig file, or put it at ${fallback} (\`kubectl config view\` shows what kubectl uses); in a cluster, the pod's service account is used.`,
    },
  );
}
