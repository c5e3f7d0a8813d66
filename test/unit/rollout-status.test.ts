import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deploymentRolloutStatus } from '../../src/drivers/kube-access/rollout-status.js';

function deployment(generation: number, status: V1Deployment['status'], replicas = 3): V1Deployment {
  return { metadata: { name: 'web', generation }, spec: { replicas, selector: {}, template: {} }, status };
}

describe('deploymentRolloutStatus (kubectl rollout status rules)', () => {
  it('waits until the controller has observed the new generation', () => {
    expect(
      deploymentRolloutStatus(
        deployment(3, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
      ),
    ).toEqual({
      done: false,
      failed: false,
      message: 'Waiting for deployment spec update to be observed...',
    });
  });

  it('reports updated, then old replicas terminating, then availability, in kubectl words', () => {
    expect(
      deploymentRolloutStatus(
        deployment(2, { observedGeneration: 2, updatedReplicas: 1, replicas: 4, availableReplicas: 3 }),
      ).message,
    ).toBe('Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...');
    expect(
      deploymentRolloutStatus(
        deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 }),
      ).message,
    ).toBe('Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
    expect(
      deploymentRolloutStatus(
        deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }),
      ).message,
    ).toBe('Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...');
  });

  it('is done when every replica is updated and available', () => {
    expect(
      deploymentRolloutStatus(
        deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
      ),
    ).toEqual({
      done: true,
      failed: false,
      message: 'deployment "web" successfully rolled out',
    });
  });

  it('fails for good when the progress deadline is exceeded', () => {
    const status = deploymentRolloutStatus(
      deployment(2, {
        observedGeneration: 2,
        updatedReplicas: 1,
        replicas: 4,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
    );
    expect(status).toEqual({ done: false, failed: true, message: 'deployment "web" exceeded its progress deadline' });
  });
});
