import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { RollbackError } from '../../core/errors.js';
import type { GitOpsSuspension } from '../../core/ports/driver.js';
import {
  type GitOpsKind,
  type GitOpsOwner,
  type Inspection,
  inspect,
  ownerName,
  refOf,
  resourceOf,
  syncsAutomatically,
} from './gitops.js';
import type { CustomPatch, KubeApi } from './kube-api.js';
import { type KubeFailure, MAX_WAIT_MS, notApplied, PATCH_SENDS, refusal, transient, waitBefore } from './retry.js';

/*
 * Suspending a GitOps controller for a rollback, and putting back exactly what was suspended. Argo CD: the
 * Application's `spec.syncPolicy.automated` is removed (what `argocd app set --sync-policy none` does) and kept;
 * Flux: `spec.suspend` is set to true with a merge patch (what `flux suspend` does) and its previous value kept.
 */

const AUTOMATED = '/spec/syncPolicy/automated';

const named = { name: z.string().min(1), namespace: z.string().min(1) };
const restoredItemSchema = z.union([
  z.object({ kind: z.literal('Application'), ...named, automated: z.record(z.string(), z.unknown()) }),
  z.object({ kind: z.enum(['Kustomization', 'HelmRelease']), ...named, suspend: z.boolean().nullable() }),
]);
type RestoreItem = z.infer<typeof restoredItemSchema>;

/** GitOpsSuspension.restore as this code writes it; it comes back from Redis, so it is parsed. */
const restoreSchema = z.object({ gitops: z.array(restoredItemSchema).min(1) });

const json = (value: unknown): string => JSON.stringify(value);

function ownerOf(item: RestoreItem): GitOpsOwner {
  return { kind: item.kind, name: item.name, namespace: item.namespace, certain: true, seenOn: '' };
}

/** How to do it by hand, for hints. */
function byHand(kind: GitOpsKind, name: string, namespace: string, action: 'suspend' | 'resume'): string {
  if (kind === 'Application')
    return action === 'suspend'
      ? `\`argocd app set ${name} --app-namespace ${namespace} --sync-policy none\``
      : `\`argocd app set ${name} --app-namespace ${namespace} --sync-policy automated\` with the options the record names`;
  return `\`flux ${action} ${kind.toLowerCase()} ${name} -n ${namespace}\``;
}

/**
 * Suspends every controller that would put the old version back, and says exactly what it changed; undefined
 * when none would (not managed, not found here, automated sync off, already suspended: a resumed run finds its
 * own suspension and changes nothing). When one cannot be suspended, those suspended already are put back and it
 * throws, so the rollback stops with nothing changed.
 */
export async function suspendControllers(
  api: KubeApi,
  inspections: Inspection[],
  signal: AbortSignal,
): Promise<GitOpsSuspension | undefined> {
  const done: RestoreItem[] = [];
  try {
    for (const inspection of inspections) {
      const item = await suspendOne(api, inspection, signal);
      if (item) done.push(item);
    }
  } catch (error) {
    // Bounded on its own: the rollback's signal may be what failed.
    const undo = AbortSignal.timeout(api.timeoutMs * 2);
    for (const item of done) await resumeOne(api, item, undo).catch(() => undefined);
    throw error;
  }
  if (done.length === 0) return undefined;
  const [only] = done;
  return {
    controller: done.map((item) => ownerName(item)).join(' and '),
    description:
      done.length === 1 && only
        ? suspendedText(only)
        : done.map((item) => `${ownerName(item)}: ${suspendedText(item)}`).join('; '),
    restore: { gitops: done },
  };
}

function suspendedText(item: RestoreItem): string {
  if (item.kind === 'Application') return `automated sync removed (was ${json(item.automated)})`;
  return `spec.suspend set to true, as flux suspend does (was ${item.suspend === null ? 'unset' : String(item.suspend)})`;
}

async function suspendOne(api: KubeApi, inspection: Inspection, signal: AbortSignal): Promise<RestoreItem | undefined> {
  const { owner } = inspection;
  const who = ownerName(owner);
  const hint = `Give the bot's Kubernetes identity get and patch on ${resourceOf(owner.kind)}, or suspend it by hand (${byHand(owner.kind, owner.name, owner.namespace, 'suspend')}) and request the rollback again; or set \`gitops: { suspend: false }\` for this target to roll back without suspending it.`;
  switch (inspection.status) {
    case 'no-crd':
    case 'missing':
      return undefined;
    case 'forbidden':
      throw new RollbackError('PROVIDER_AUTH', `Could not read ${who} to suspend it: ${inspection.message}`, { hint });
    case 'unreadable':
      throw new RollbackError('PROVIDER_UNAVAILABLE', `Could not read ${who} to suspend it: ${inspection.message}`, {
        hint,
        retryable: true,
      });
    case 'argocd': {
      if (!inspection.automated || !syncsAutomatically(inspection.automated)) return undefined;
      const removed = await removeAutomated(api, owner, inspection.automated, signal, hint);
      return removed && { kind: 'Application', name: owner.name, namespace: owner.namespace, automated: removed };
    }
    case 'flux': {
      if (inspection.suspend === true) return undefined;
      const kind = owner.kind === 'HelmRelease' ? 'HelmRelease' : 'Kustomization';
      const sent = await sendIdempotent(api, owner, { type: 'merge', body: { spec: { suspend: true } } }, signal, hint);
      if (sent === 'gone') return undefined;
      return { kind, name: owner.name, namespace: owner.namespace, suspend: inspection.suspend ?? null };
    }
  }
}

/**
 * Removes `automated`, guarded by a `test` of the value read, so that exactly the value removed is kept. A send
 * whose answer was lost is read back: gone means it applied (a second copy would fail its test, harmlessly).
 * Undefined when someone else turned automated sync off meanwhile: nothing of theirs is recorded as ours.
 */
async function removeAutomated(
  api: KubeApi,
  owner: GitOpsOwner,
  automated: Record<string, unknown>,
  signal: AbortSignal,
  hint: string,
): Promise<Record<string, unknown> | undefined> {
  const what = `remove the automated sync of ${ownerName(owner)}`;
  const started = performance.now();
  const failures: KubeFailure[] = [];
  let expected = automated;
  let uncertain = false;
  for (let send = 1; ; send++) {
    const patch: CustomPatch = {
      type: 'json',
      ops: [
        { op: 'test', path: AUTOMATED, value: expected },
        { op: 'remove', path: AUTOMATED },
      ],
    };
    const result = await api.sendCustomPatch(refOf(owner), patch, signal);
    if (result.ok) return expected;
    const { failure } = result;
    failures.push(failure);
    const testFailed = failure.kind === 'http' && (failure.status === 409 || failure.status === 422);
    if (failure.kind === 'http' && !transient(failure) && !testFailed)
      throw withHint(refusal(what, failure, result.error), hint);
    if (!notApplied(failure)) {
      uncertain ||= !testFailed;
      const now = await inspect(api, owner, signal);
      if (now.status !== 'argocd') {
        throw new RollbackError(
          'OUTCOME_UNKNOWN',
          `The Kubernetes API at ${api.server} did not answer a request to ${what}, and it could not be read back: automated sync may or may not be off.`,
          {
            hint: `Look at it (\`kubectl get ${resourceOf(owner.kind)} ${owner.name} -n ${owner.namespace} -o yaml\`), then request the rollback again.`,
          },
        );
      }
      if (now.automated === undefined) return uncertain ? expected : undefined;
      expected = now.automated;
    }
    if (send >= PATCH_SENDS)
      throw withHint(api.unavailable(what, failures, performance.now() - started, result.error), hint);
    await api.sleep(Math.min(waitBefore(failure, send), MAX_WAIT_MS), signal);
  }
}

/**
 * A patch that may be sent again safely (a merge patch setting a value, an `add`): tried again on 429, 5xx and
 * lost answers. 'gone' when the object no longer exists.
 */
async function sendIdempotent(
  api: KubeApi,
  owner: GitOpsOwner,
  patch: CustomPatch,
  signal: AbortSignal,
  hint: string,
): Promise<'done' | 'gone'> {
  const what = `patch ${ownerName(owner)}`;
  const started = performance.now();
  const failures: KubeFailure[] = [];
  for (let send = 1; ; send++) {
    const result = await api.sendCustomPatch(refOf(owner), patch, signal);
    if (result.ok) return 'done';
    const { failure } = result;
    failures.push(failure);
    if (failure.kind === 'http' && failure.status === 404) return 'gone';
    if (failure.kind === 'http' && !transient(failure)) throw withHint(refusal(what, failure, result.error), hint);
    if (send >= PATCH_SENDS)
      throw withHint(api.unavailable(what, failures, performance.now() - started, result.error), hint);
    await api.sleep(Math.min(waitBefore(failure, send), MAX_WAIT_MS), signal);
  }
}

function withHint(error: RollbackError, hint: string): RollbackError {
  return new RollbackError(error.code, error.text, {
    hint,
    retryable: error.retryable,
    cause: error.cause,
    details: error.details,
  });
}

/**
 * Puts back exactly what suspendControllers changed, and says what it did. Automated sync that someone set again
 * meanwhile is left as it is (and said); an object that is gone is said too.
 */
export async function resumeControllers(api: KubeApi, restore: unknown, signal: AbortSignal): Promise<string> {
  const parsed = restoreSchema.safeParse(restore);
  if (!parsed.success) {
    throw new RollbackError(
      'PROVIDER_REJECTED',
      'The record of what the rollback suspended cannot be read, so nothing was put back.',
      {
        hint: 'Resume the controller by hand (argocd app set --sync-policy automated, or flux resume).',
      },
    );
  }
  const items = parsed.data.gitops;
  const said: string[] = [];
  for (const item of items) {
    const words = await resumeOne(api, item, signal);
    said.push(items.length === 1 ? words : `${ownerName(item)}: ${words}`);
  }
  return said.join('; ');
}

async function resumeOne(api: KubeApi, item: RestoreItem, signal: AbortSignal): Promise<string> {
  const owner = ownerOf(item);
  const hint = `Give the bot's Kubernetes identity patch on ${resourceOf(item.kind)}, or resume it by hand (${byHand(item.kind, item.name, item.namespace, 'resume')}).`;
  if (item.kind !== 'Application') {
    // null removes the field: exactly as it was before the rollback.
    const sent = await sendIdempotent(
      api,
      owner,
      { type: 'merge', body: { spec: { suspend: item.suspend } } },
      signal,
      hint,
    );
    if (sent === 'gone') return `the ${item.kind} no longer exists, so there was nothing to put back`;
    return item.suspend === null
      ? 'spec.suspend unset again, as before the rollback; Flux reconciles it again'
      : `spec.suspend put back to ${item.suspend}, as before the rollback${item.suspend ? '' : '; Flux reconciles it again'}`;
  }
  const now = await inspect(api, owner, signal);
  switch (now.status) {
    case 'no-crd':
    case 'missing':
      return 'the Application no longer exists, so there was nothing to put back';
    case 'forbidden':
    case 'unreadable':
      throw new RollbackError(
        now.status === 'forbidden' ? 'PROVIDER_AUTH' : 'PROVIDER_UNAVAILABLE',
        `Could not read ${ownerName(owner)}: ${now.message}`,
        { hint },
      );
    case 'flux':
      throw new RollbackError('PROVIDER_REJECTED', `${ownerName(owner)} is not an Argo CD Application.`);
    case 'argocd':
      break;
  }
  if (now.automated !== undefined) {
    if (isDeepStrictEqual(now.automated, item.automated))
      return `automated sync was already back (${json(item.automated)}), so nothing was changed`;
    return `automated sync was set again since the rollback (${json(now.automated)}), so it was left as it is; the rollback had removed ${json(item.automated)}`;
  }
  const patch: CustomPatch = {
    type: 'json',
    ops: now.hasSyncPolicy
      ? [{ op: 'add', path: AUTOMATED, value: item.automated }]
      : [{ op: 'add', path: '/spec/syncPolicy', value: { automated: item.automated } }],
  };
  if ((await sendIdempotent(api, owner, patch, signal, hint)) === 'gone')
    return 'the Application no longer exists, so there was nothing to put back';
  return `automated sync put back (${json(item.automated)}); Argo CD deploys what git says again`;
}
