import { RollbackError } from '../../core/errors.js';
import type { Selection } from '../../core/types.js';
import type { FastlyActivation, FastlyService, FastlyVersion } from './client.js';

export interface VersionChoice {
  from: FastlyVersion;
  to: FastlyVersion;
  selection: Selection;
  notes: string[];
}

/**
 * Chooses the version to re-activate.
 *
 * The runbook says a rapid rollback "activates the previous active version": the version that was
 * active before the current one, read from the activation history. When that history cannot be read
 * (null), the highest locked version below the active one is the best guess (Fastly locks a version
 * when it is activated), and the plan says it was inferred. A draft that never served traffic is never
 * chosen: activating untested configuration during an outage makes it worse.
 */
export function chooseRestoreVersion(
  service: FastlyService,
  activations: FastlyActivation[] | null,
  explicit?: number,
): VersionChoice {
  const from = activeVersionOf(service);
  if (explicit !== undefined)
    return { from, to: explicitVersion(service, from, explicit), selection: 'explicit', notes: [] };

  const notes: string[] = [];
  if (activations) {
    const previous = previousFromHistory(service, activations, from.number);
    if (previous) {
      return {
        from,
        to: previous,
        selection: 'history',
        notes: [`v${previous.number} was live before v${from.number}.`],
      };
    }
    notes.push(`The activation history has no earlier activation of another version, so the version is inferred.`);
  } else {
    notes.push(`The activation history could not be read, so the version is inferred.`);
  }

  const inferred = service.versions
    .filter((v) => v.locked && v.number < from.number)
    .sort((a, b) => b.number - a.number)[0];
  if (!inferred) {
    throw new RollbackError(
      'NOTHING_TO_ROLL_BACK',
      `${service.name} has no earlier version that was ever activated: v${from.number} is the first.`,
      {
        hint: 'There is nothing to roll back to. Fix forward: deploy a corrected version.',
      },
    );
  }
  notes.push(
    `Inferred: v${inferred.number} is the newest locked (once activated) version below v${from.number}. Check it before approving.`,
  );
  return { from, to: inferred, selection: 'inferred', notes };
}

function activeVersionOf(service: FastlyService): FastlyVersion {
  const active =
    service.versions.find((v) => v.number === service.activeVersion) ?? service.versions.find((v) => v.active);
  if (!active) {
    throw new RollbackError(
      'NOTHING_TO_ROLL_BACK',
      `${service.name} has no active version, so there is nothing to roll back.`,
      {
        hint: 'Activate a version in Fastly first, or check the serviceId in rollback.yml.',
      },
    );
  }
  return active;
}

function explicitVersion(service: FastlyService, from: FastlyVersion, number: number): FastlyVersion {
  const version = service.versions.find((v) => v.number === number);
  if (!version) {
    const newest = Math.max(...service.versions.map((v) => v.number));
    throw new RollbackError(
      'VERSION_UNKNOWN',
      `${service.name} has no version v${number} (versions go from v1 to v${newest}).`,
      {
        hint: 'Ask again without naming a version to restore the previously active one.',
      },
    );
  }
  if (version.number === from.number) {
    throw new RollbackError('NOTHING_TO_ROLL_BACK', `v${number} is already the active version of ${service.name}.`);
  }
  if (!version.locked) {
    throw new RollbackError(
      'VERSION_NOT_RESTORABLE',
      `v${number} of ${service.name} is a draft that was never activated, so it never served traffic.`,
      {
        hint: 'A rollback only restores versions that have been live. Pick a locked version, or deploy the draft through the pipeline.',
      },
    );
  }
  return version;
}

function previousFromHistory(
  service: FastlyService,
  activations: FastlyActivation[],
  active: number,
): FastlyVersion | undefined {
  // Newest first: skip down to the activation that made the current version live, then take the
  // next older activation of a different version that still exists and was locked.
  const current = activations.findIndex((a) => a.version === active);
  if (current === -1) return undefined;
  for (const activation of activations.slice(current + 1)) {
    if (activation.version === active) continue;
    const version = service.versions.find((v) => v.number === activation.version);
    if (version?.locked) return version;
  }
  return undefined;
}
