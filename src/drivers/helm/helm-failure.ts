import { RollbackError } from '../../core/errors.js';
import type { HelmRevision } from './release.js';
import { revisionInfo } from './select-revision.js';

/** What the driver gives helmRollback so that a failure can be explained from the release history. */
export interface HelmRecovery {
  /** The revision that was live when helm started (the plan's `from`, checked just before). */
  from: number;
  /** The release history, read natively from its Secrets, newest first. */
  history: () => Promise<HelmRevision[]>;
}

/**
 * `helm rollback` failed: find out from the release history what it did, and say it, instead of running it
 * again. Helm writes the new revision ("Rollback to N", pending-rollback) before it touches a resource, so
 * no new revision means nothing was changed; a new one restoring the target means the change went at
 * least part of the way (deployed, failed, or still pending if helm stopped before recording the outcome),
 * and the driver goes on to verify what the cluster runs.
 */
export async function explainHelmFailure(
  error: unknown,
  args: { release: string; revision: number; namespace: string },
  recovery: HelmRecovery,
): Promise<unknown> {
  if (!(error instanceof RollbackError) || error.code === 'CONFIG_INVALID') return error;
  const { release, revision: to, namespace } = args;
  const history = `\`helm history ${release} -n ${namespace}\``;
  const byHand = `\`helm rollback ${release} ${to} -n ${namespace} --wait\`, then \`kubectl rollout status\``;
  // `uncertain: false` when the history proves helm changed nothing (the core then says so as a fact).
  const explained = (message: string, hint: string, uncertain?: boolean) =>
    new RollbackError(error.code, `${error.message}\n${message}`, {
      hint,
      cause: error,
      details: { ...error.details, helmFailed: true, ...(uncertain === undefined ? {} : { uncertain }) },
    });

  let revisions: HelmRevision[];
  try {
    revisions = await recovery.history();
  } catch (readError) {
    const said = readError instanceof Error ? readError.message : String(readError);
    return explained(
      `The release history could not be read back afterwards (${said}), so whether helm changed anything is not known.`,
      `Do not run helm rollback again blindly: look at ${history} first, then decide.`,
    );
  }
  const latest = revisions[0];
  const record = revisions.find((r) => r.revision > recovery.from && revisionInfo(r).restores === String(to));
  if (!record) {
    if (latest && latest.revision > recovery.from) {
      return explained(
        `Meanwhile ${release} moved on to revision ${latest.revision} (${latest.status}${latest.description ? `: ${latest.description}` : ''}), which is not this rollback.`,
        `Someone else is deploying ${release}: look at ${history}, then request the rollback again for a fresh plan.`,
        false,
      );
    }
    return explained(
      `Helm recorded no new revision: ${release} is still on revision ${recovery.from}, so nothing was rolled back.`,
      `helm is not run again by itself. Fix what helm says (for an API server error: \`kubectl get --raw /readyz\`), then request the rollback again, or follow the runbook by hand: ${byHand}.`,
      false,
    );
  }
  const said = record.description ? ` ("${record.description}")` : '';
  if (record.status === 'deployed') {
    return explained(
      `Helm had recorded revision ${record.revision}, the rollback to revision ${to}, as deployed: the rollback was applied, and helm is not run again.`,
      `The checks below show what the cluster runs; ${history} shows the record.`,
    );
  }
  if (record.status.startsWith('pending-')) {
    return explained(
      `Helm recorded revision ${record.revision} as the rollback to revision ${to} but stopped while it was ${record.status}${said}: the change may or may not have reached the cluster, and helm is not run again.`,
      `The checks below show what the cluster runs. Helm keeps ${release} ${record.status} until another helm operation on it completes: once the API server answers (\`kubectl get --raw /readyz\`), finish by hand as the runbook says: ${byHand}.`,
    );
  }
  return explained(
    `Helm recorded revision ${record.revision} as the rollback to revision ${to} and marked it ${record.status}${said}: some resources may have changed, and helm is not run again.`,
    `The checks below show what the cluster runs. To finish by hand as the runbook says: ${byHand}; ${history} shows the record.`,
  );
}
