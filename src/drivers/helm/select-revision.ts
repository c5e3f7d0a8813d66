import { RollbackError } from '../../core/errors.js';
import type { Selection, VersionInfo } from '../../core/types.js';
import type { HelmRevision } from './release.js';

const RESTORABLE = new Set(['superseded', 'deployed']);

function revisionLabel(revision: HelmRevision): string {
  const app = revision.appVersion.replace(/^v/, '');
  return app ? `v${app} (revision ${revision.revision})` : `revision ${revision.revision}`;
}

export function revisionInfo(revision: HelmRevision): VersionInfo {
  const rollbackTo = /^Rollback to (\d+)$/.exec(revision.description)?.[1];
  return {
    id: String(revision.revision),
    label: revisionLabel(revision),
    description: `${revision.chart}-${revision.chartVersion}, images ${revision.images.join(', ') || 'none found'}`,
    restores: rollbackTo ?? (revision.failedRollbackOf === undefined ? undefined : String(revision.failedRollbackOf)),
    images: revision.images,
    meta: { ...revision.meta, appVersion: revision.appVersion, chartVersion: revision.chartVersion },
  };
}

export interface RevisionChoice {
  current: HelmRevision;
  target: HelmRevision;
  selection: Selection;
  notes: string[];
}

/**
 * The release's latest revision is what the cluster was last told to run. The target is the newest
 * earlier revision that was deployed successfully; failed and pending revisions are skipped, and the
 * plan says which. A release stuck in a pending state is refused: Helm would refuse too, and the person
 * needs to know why.
 */
export function chooseRevision(
  release: string,
  namespace: string,
  revisions: HelmRevision[],
  explicit?: number,
): RevisionChoice {
  const current = revisions[0];
  if (!current) {
    throw new RollbackError('PROVIDER_NOT_FOUND', `Helm release ${release} has no history in namespace ${namespace}.`, {
      hint: `Check \`release:\` and \`namespace:\` in rollback.yml against \`helm list -n ${namespace}\`.`,
    });
  }
  if (current.status.startsWith('pending-')) {
    const lastGood = revisions.find((r) => r.revision < current.revision && RESTORABLE.has(r.status));
    throw new RollbackError(
      'PROVIDER_REJECTED',
      `Helm release ${release} is stuck in ${current.status} (revision ${current.revision}): another Helm operation is running or was interrupted, and Helm refuses a rollback until it ends.`,
      {
        hint: `Check \`helm history ${release} -n ${namespace}\` and whether a deploy pipeline is still running. If nothing is, clear it by hand${lastGood ? ` with \`helm rollback ${release} ${lastGood.revision} -n ${namespace}\`` : ''}, as the runbook says.`,
      },
    );
  }
  const notes: string[] = [];
  if (current.status === 'failed')
    notes.push(`The latest revision ${current.revision} failed; the cluster may be half on it.`);
  if (explicit !== undefined) {
    const target = revisions.find((r) => r.revision === explicit);
    if (!target) {
      throw new RollbackError(
        'VERSION_UNKNOWN',
        `Helm release ${release} has no revision ${explicit}; it keeps ${revisions.map((r) => r.revision).join(', ')}.`,
      );
    }
    if (target.revision === current.revision)
      throw new RollbackError('NOTHING_TO_ROLL_BACK', `revision ${explicit} is already the latest of ${release}.`);
    if (!RESTORABLE.has(target.status)) {
      throw new RollbackError(
        'VERSION_NOT_RESTORABLE',
        `revision ${explicit} of ${release} is ${target.status}: it never ran successfully.`,
        {
          hint: 'Pick a superseded or deployed revision (`helm history`).',
        },
      );
    }
    return { current, target, selection: 'explicit', notes };
  }
  const skipped: string[] = [];
  for (const candidate of revisions.slice(1)) {
    if (RESTORABLE.has(candidate.status)) {
      if (skipped.length > 0) notes.push(`Skipped ${skipped.join(', ')}.`);
      notes.push(`Revision ${candidate.revision} was the last successful deploy before ${current.revision}.`);
      return { current, target: candidate, selection: 'history', notes };
    }
    skipped.push(`revision ${candidate.revision} (${candidate.status})`);
  }
  throw new RollbackError(
    'NOTHING_TO_ROLL_BACK',
    `Helm release ${release} has no successfully deployed revision before ${current.revision}.`,
    {
      hint: 'There is nothing to roll back to. Fix forward: deploy a corrected chart or image.',
    },
  );
}
