import type { V1Deployment } from '@kubernetes/client-node';
import { sleep } from '../../core/abortable.js';
import { formatDuration } from '../../core/duration.js';
import { RollbackError } from '../../core/errors.js';
import type { DriverContext } from '../../core/ports/driver.js';
import type { VerifyCheck } from '../../core/types.js';
import type { KubeApi } from './kube-api.js';
import { deploymentRolloutStatus } from './rollout-status.js';

/**
 * Verification runs after the change: when Kubernetes cannot be read then, the message says the
 * rollback was applied (so nobody sends it again) and how to look by hand.
 */
function afterChange(error: unknown, what: string, byHand: string): unknown {
  if (!(error instanceof RollbackError)) return error;
  return new RollbackError(
    error.code,
    `The rollback was applied, but verification could not read ${what}: ${error.message}`,
    {
      hint: `Do not send the rollback again: once the API server answers (\`kubectl get --raw /readyz\`), check by hand with ${byHand}.`,
      cause: error,
      details: error.details,
    },
  );
}

/** Polls like `kubectl rollout status --timeout`, streaming kubectl's progress lines as they change. */
export async function waitForRollout(
  api: KubeApi,
  namespace: string,
  name: string,
  timeoutMs: number,
  ctx: DriverContext,
): Promise<VerifyCheck & { deployment?: V1Deployment }> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  let last = '';
  let deployment: V1Deployment | undefined;
  for (;;) {
    deployment = await api.getDeployment(namespace, name, ctx.signal).catch((error: unknown) => {
      throw afterChange(error, `deployment/${name}`, `\`kubectl rollout status deployment/${name} -n ${namespace}\``);
    });
    const status = deploymentRolloutStatus(deployment);
    const took = formatDuration(performance.now() - started);
    if (status.done)
      return { name: `Rollout of deployment/${name}`, ok: true, detail: `${status.message} (${took})`, deployment };
    if (status.failed)
      return {
        name: `Rollout of deployment/${name}`,
        ok: false,
        detail: `${status.message} after ${took}`,
        deployment,
      };
    if (status.message !== last) {
      ctx.report({ status: 'progress', text: status.message });
      last = status.message;
    }
    if (performance.now() >= deadline) {
      return {
        name: `Rollout of deployment/${name}`,
        ok: false,
        detail: `not finished after ${formatDuration(timeoutMs)}: ${status.message}`,
        deployment,
      };
    }
    await sleep(Math.min(250, Math.max(0, deadline - performance.now())), ctx.signal);
  }
}

/** The runbook's "verify the previous image is running": every live pod runs exactly the expected images. */
export async function checkRunningImages(
  api: KubeApi,
  namespace: string,
  selector: string,
  expected: string[],
  ctx: DriverContext,
): Promise<VerifyCheck> {
  const listed = await api.listPods(namespace, selector, ctx.signal).catch((error: unknown) => {
    throw afterChange(
      error,
      `the pods (${selector})`,
      `\`kubectl get pods -n ${namespace} -l ${selector} -o jsonpath='{.items[*].spec.containers[*].image}'\``,
    );
  });
  const pods = listed.filter(
    (p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
  );
  const want = [...expected].sort().join(', ');
  if (pods.length === 0) return { name: 'Running images', ok: false, detail: `no running pods match ${selector}` };
  const wrong = pods.filter(
    (p) =>
      (p.spec?.containers ?? [])
        .map((c) => c.image)
        .sort()
        .join(', ') !== want,
  );
  if (wrong.length === 0)
    return {
      name: 'Running images',
      ok: true,
      detail: `${pods.length} of ${pods.length} pods (${selector}) run ${want}`,
    };
  const seen = [...new Set(wrong.map((p) => (p.spec?.containers ?? []).map((c) => c.image).join(', ')))].join('; ');
  return {
    name: 'Running images',
    ok: false,
    detail: `${wrong.length} of ${pods.length} pods (${selector}) run ${seen}, expected ${want}`,
  };
}

/** `matchLabels` as a label selector string (`app=web,tier=front`). */
export function selectorOf(deployment: V1Deployment): string {
  return Object.entries(deployment.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
