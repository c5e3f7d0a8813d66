import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { type ErrorCode, RollbackError } from '../../core/errors.js';
import type { DriverContext } from '../../core/ports/driver.js';
import type { JsonPatchOp, KubeApi } from '../kube-access/kube-api.js';
import {
  failuresText,
  failureText,
  type KubeFailure,
  MAX_WAIT_MS,
  notApplied,
  PATCH_SENDS,
  RATE_LIMIT_HINT,
  refusal,
  seconds,
  transient,
  UNAVAILABLE_HINT,
  waitBefore,
} from '../kube-access/retry.js';
import { RESOURCE_VERSION_PATH, REVISION_PATH, revisionOf, sameTemplate } from './revisions.js';

/**
 * Sends the rollback's JSON patch (revisions.ts undoPatch: `test` the revision annotation and, when the
 * read that decided the rollback gave one, the resourceVersion; then replace the pod template) so that
 * the Deployment is rolled back at most once, and sends it again only when that is provably safe:
 *
 * - 429: the API server did not act. Sent again after Retry-After.
 * - 5xx, no answer, a dropped connection: it may or may not have applied. The Deployment is read back:
 *   with the restored template, it applied (not sent again); with the planned revision, its old template
 *   and the pinned resourceVersion (an unapplied patch leaves it as it was), it did not, and is sent
 *   again; anything else is someone else's change, and nothing more is sent. The `test` ops make even a
 *   late duplicate harmless: once the first copy applied, the resourceVersion moved on at once and the
 *   revision when the controller observed it, so a second one fails its test (422), and the read-back
 *   says why.
 * - A 409 or 422 on the first send with a pinned resourceVersion that the Deployment no longer has: it
 *   was written to since the read that decided the rollback (a template edit the controller has not
 *   observed yet keeps the revision), and the API server refused the patch: PLAN_STALE, nothing changed.
 * - Any other answer (403, 404, a 422 on the first send) is a definite refusal: nothing was changed.
 *
 * At most PATCH_SENDS sends, each bounded by the API's timeout; every step taken is reported to `ctx`.
 */
export async function sendGuardedPatch(
  api: KubeApi,
  spec: { namespace: string; name: string; ops: JsonPatchOp[] },
  ctx: Pick<DriverContext, 'signal' | 'report'>,
): Promise<V1Deployment> {
  const { namespace, name, ops } = spec;
  const what = `patch deployment ${namespace}/${name}`;
  const resource = `deployment/${name}`;
  const tested = ops.find((op) => op.op === 'test' && op.path === REVISION_PATH);
  const pinned = ops.find((op) => op.op === 'test' && op.path === RESOURCE_VERSION_PATH)?.value as string | undefined;
  const template = ops.find((op) => op.op === 'replace' && op.path === '/spec/template')?.value as
    | V1PodTemplateSpec
    | undefined;
  const byHand = `Or roll back by hand, as the runbook says: \`kubectl rollout undo ${resource} -n ${namespace} --to-revision=<the revision in the plan>\`.`;
  const replanHint = `Someone changed it meanwhile: look at \`kubectl rollout history ${resource} -n ${namespace}\`, then request the rollback again to plan again from what is live now.`;
  const failures: KubeFailure[] = [];
  const started = performance.now();
  let uncertainBefore = false;

  for (let send = 1; ; send++) {
    const result = await api.sendPatch(namespace, name, ops, ctx.signal);
    if (result.ok) return result.value;
    const { failure } = result;
    failures.push(failure);
    const elapsed = () => performance.now() - started;

    if (notApplied(failure)) {
      const waitMs = waitBefore(failure, send);
      if (send >= PATCH_SENDS || waitMs > MAX_WAIT_MS) {
        throw new RollbackError(
          'PROVIDER_RATE_LIMITED',
          `The Kubernetes API at ${api.server} ${failuresText(failures, elapsed())} when trying to ${what}${waitMs > MAX_WAIT_MS ? `, asking to wait ${seconds(waitMs)}` : ''}. A 429 means it did not act on the patch.`,
          {
            hint: `${RATE_LIMIT_HINT} ${byHand}`,
            retryable: true,
            cause: result.error,
            details: { sends: send, uncertain: false },
          },
        );
      }
      ctx.report({
        status: 'info',
        text: `Kubernetes answered 429 to the rollback patch, so it was not applied; sending it again in ${seconds(waitMs)}, as its Retry-After asks.`,
      });
      await api.sleep(waitMs, ctx.signal);
      continue;
    }

    const refused = failure.kind === 'http' && !transient(failure);
    // A refusal of the first send is definite. A refusal of a later one may be its test op finding that an
    // earlier send applied after all: read back to tell.
    if (refused && (!uncertainBefore || (failure.status !== 409 && failure.status !== 422))) {
      if (pinned !== undefined && !uncertainBefore && (failure.status === 409 || failure.status === 422)) {
        throw await changedSinceDecided(
          api,
          { namespace, name, resource, pinned, revision: tested?.value, hint: replanHint },
          ctx.signal,
          refusal(what, failure, result.error),
        );
      }
      throw refusal(what, failure, result.error);
    }
    if (!tested || !template) throw uncertain(api, what, resource, failure, result.error);
    uncertainBefore ||= !refused;

    let now: V1Deployment;
    try {
      now = await api.getDeployment(namespace, name, ctx.signal);
    } catch (error) {
      if (!(error instanceof RollbackError)) throw error;
      throw uncertain(api, what, resource, failure, error, error.message);
    }
    if (sameTemplate(now.spec?.template, template)) {
      ctx.report({
        status: 'info',
        text: refused
          ? `The patch sent again was refused by its revision test, and ${resource} has the restored pod template: the earlier send was applied.`
          : `The Kubernetes API ${failureText(failure)} to the rollback patch, but ${resource} already has the restored pod template: it was applied, and is not sent again.`,
      });
      return now;
    }
    const revision = String(revisionOf(now));
    const written = pinned !== undefined && now.metadata?.resourceVersion !== pinned;
    if (refused || revision !== String(tested.value) || written) {
      const seen =
        written && revision === String(tested.value)
          ? `it was written to since the check that decided the rollback (resourceVersion ${pinned}, now ${now.metadata?.resourceVersion}) and does not have the restored pod template`
          : `it is on revision ${revision} with a pod template that is neither the planned one nor the restored one`;
      throw new RollbackError(
        'PLAN_STALE',
        `${resource} changed while the rollback was being sent: ${seen}. Nothing more was sent.`,
        { hint: replanHint },
      );
    }
    if (send >= PATCH_SENDS) {
      throw new RollbackError(
        codeOf(failure),
        `The Kubernetes API at ${api.server} ${failuresText(failures, elapsed())} when trying to ${what}; read back after each, ${resource} was unchanged (revision ${revision}), so nothing was changed.`,
        {
          hint: `${UNAVAILABLE_HINT} ${byHand}`,
          retryable: true,
          cause: result.error,
          details: { sends: send, uncertain: false },
        },
      );
    }
    const waitMs = Math.min(waitBefore(failure, send), MAX_WAIT_MS);
    ctx.report({
      status: 'info',
      text: `The Kubernetes API ${failureText(failure)} to the rollback patch; read back, ${resource} is unchanged (revision ${revision}), so the patch is sent again${waitMs >= 1000 ? ` in ${seconds(waitMs)}` : ''} (its ${pinned === undefined ? 'revision test lets' : 'revision and resourceVersion tests let'} it apply only once).`,
    });
    await api.sleep(waitMs, ctx.signal);
  }
}

/**
 * The first send was refused (409/422) with a resourceVersion pinned: read back to say why. A Deployment
 * that no longer has that resourceVersion was written to since the read that decided the rollback, and
 * the patch's test refused it; otherwise (or unreadable) the refusal is reported as it came.
 */
async function changedSinceDecided(
  api: KubeApi,
  spec: { namespace: string; name: string; resource: string; pinned: string; revision: unknown; hint: string },
  signal: AbortSignal,
  refused: RollbackError,
): Promise<RollbackError> {
  let now: V1Deployment;
  try {
    now = await api.getDeployment(spec.namespace, spec.name, signal);
  } catch (error) {
    if (!(error instanceof RollbackError)) throw error;
    return refused;
  }
  const version = now.metadata?.resourceVersion;
  if (version === spec.pinned) return refused;
  const revision = String(revisionOf(now));
  const what =
    revision === String(spec.revision)
      ? `its revision is still ${revision}, but it was written to (a new pod template the controller has not rolled out yet, a scale, an edit)`
      : `it is on revision ${revision} now`;
  return new RollbackError(
    'PLAN_STALE',
    `${spec.resource} changed since the check that decided the rollback: ${what} (resourceVersion ${spec.pinned}, now ${version}). Kubernetes refused the rollback patch. Nothing was changed.`,
    { hint: spec.hint, cause: refused },
  );
}

function codeOf(failure: KubeFailure): ErrorCode {
  return failure.kind === 'timeout' ? 'PROVIDER_TIMEOUT' : 'PROVIDER_UNAVAILABLE';
}

/** The patch's outcome is unknown and cannot be found out now. Never retryable. */
function uncertain(
  api: KubeApi,
  what: string,
  resource: string,
  failure: KubeFailure,
  cause: unknown,
  readBack?: string,
): RollbackError {
  return new RollbackError(
    codeOf(failure),
    `The Kubernetes API at ${api.server} ${failureText(failure)} when trying to ${what}, so the rollback may or may not have been applied${readBack ? `, and ${resource} could not be read back: ${readBack}` : ''}.`,
    {
      hint: `Do not roll back again blindly: see which pod template ${resource} has now (\`kubectl rollout history ${resource}\`), then decide.`,
      retryable: false,
      cause,
      details: { uncertain: true },
    },
  );
}
