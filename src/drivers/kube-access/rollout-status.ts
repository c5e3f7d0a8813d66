import type { V1Deployment } from '@kubernetes/client-node';

export interface RolloutStatus {
  done: boolean;
  /** kubectl's words, without the trailing newline. */
  message: string;
  /** The rollout cannot finish on its own (progress deadline exceeded). */
  failed: boolean;
}

/**
 * `kubectl rollout status` for a Deployment, with kubectl's rules and words
 * (kubectl pkg/polymorphichelpers/rollout_status.go): nothing is judged until the controller has
 * observed the latest generation; a Progressing condition with reason ProgressDeadlineExceeded is
 * final; otherwise updated, then old-replica termination, then availability.
 */
export function deploymentRolloutStatus(deployment: V1Deployment): RolloutStatus {
  const name = deployment.metadata?.name ?? 'deployment';
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  if (generation > (status.observedGeneration ?? 0)) {
    return { done: false, failed: false, message: 'Waiting for deployment spec update to be observed...' };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const wanted = deployment.spec?.replicas;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (wanted !== undefined && updated < wanted) {
    return {
      done: false,
      failed: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${wanted} new replicas have been updated...`,
    };
  }
  if (replicas > updated) {
    return {
      done: false,
      failed: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`,
    };
  }
  if (available < updated) {
    return {
      done: false,
      failed: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
    };
  }
  return { done: true, failed: false, message: `deployment "${name}" successfully rolled out` };
}
