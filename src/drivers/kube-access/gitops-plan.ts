import { type Inspection, ownerName, resourceOf, syncsAutomatically } from './gitops.js';

/** What the plan says about the GitOps controllers of a target, before anyone approves. */
export interface GitOpsPlanWords {
  notes: string[];
  /** Steps that run right before the change (suspending a controller). */
  steps: string[];
}

export interface GitOpsPlanContext {
  /** The target's name in rollback.yml. */
  target: string;
  /** What is live now and would come back: "revision 2", "v1.1.0 (revision 2)". */
  from: string;
  /** gitops.suspend: the rollback suspends the controller first. */
  suspend: boolean;
  /**
   * The target is the Helm release itself, so a HelmRelease reconciles it back at its interval whatever its drift
   * detection says (helm-controller upgrades a release changed outside it); for a plain Deployment only drift
   * detection would.
   */
  releaseIsTarget: boolean;
}

/** Argo CD's default reconciliation (timeout.reconciliation): it compares with git about every 3 minutes. */
const ARGO_EVERY = 'within about 3 minutes';

/** The plan's notes and steps for what detection found; nothing at all for an unmanaged target. */
export function gitOpsPlanWords(inspections: Inspection[], context: GitOpsPlanContext): GitOpsPlanWords {
  const words: GitOpsPlanWords = { notes: [], steps: [] };
  for (const inspection of inspections) {
    const { notes, steps } = wordsFor(inspection, context);
    words.notes.push(...notes);
    words.steps.push(...steps);
  }
  return words;
}

function wordsFor(inspection: Inspection, context: GitOpsPlanContext): GitOpsPlanWords {
  const who = ownerName(inspection.owner);
  const { from, target } = context;
  const advice = `Set \`gitops: { suspend: true }\` for ${target} to suspend it during the rollback; otherwise the thread says when ${target} moves.`;
  const suspending = `the rollback suspends it first (gitops.suspend)`;
  switch (inspection.status) {
    case 'argocd': {
      const { automated } = inspection;
      if (!syncsAutomatically(automated)) {
        return {
          notes: [`Managed by ${who}: automated sync off, so it changes nothing until someone syncs it.`],
          steps: [],
        };
      }
      const selfHeal = automated?.selfHeal === true;
      const how = selfHeal ? 'automated sync with self-heal' : 'automated sync, self-heal off';
      if (context.suspend) {
        return {
          notes: [`Managed by ${who}: ${how}; ${suspending}.`],
          steps: [`Suspend ${who}: remove its automated sync (the removed value is kept in the record)`],
        };
      }
      const warning = selfHeal
        ? `⚠️ Argo CD will put ${from} back ${ARGO_EVERY}.`
        : `⚠️ Argo CD will put ${from} back at the next commit to git (self-heal is off, so only a new commit syncs).`;
      return { notes: [`Managed by ${who}: ${how}.`, `${warning} ${advice}`], steps: [] };
    }
    case 'flux': {
      const every = inspection.interval ? `every ${inspection.interval}` : 'at its interval';
      if (inspection.suspend === true) {
        return { notes: [`Managed by ${who}: suspended, so it changes nothing until it is resumed.`], steps: [] };
      }
      if (context.suspend) {
        return {
          notes: [`Managed by ${who}: not suspended, reconciling ${every}; ${suspending}.`],
          steps: [
            `Suspend ${who}: set spec.suspend to true, as flux suspend does (its previous value is kept in the record)`,
          ],
        };
      }
      const corrects =
        inspection.owner.kind === 'Kustomization' || context.releaseIsTarget || inspection.driftDetection === 'enabled';
      if (!corrects) {
        return {
          notes: [
            `Managed by ${who}: not suspended, reconciling ${every}; its drift detection is off, so it puts ${from} back only at its next upgrade.`,
          ],
          steps: [],
        };
      }
      const within = inspection.interval ? `within its interval, ${inspection.interval}` : 'within its interval';
      return {
        notes: [
          `Managed by ${who}: not suspended, reconciling ${every}.`,
          `⚠️ Flux will put ${from} back ${within}. ${advice}`,
        ],
        steps: [],
      };
    }
    case 'no-crd':
      return {
        notes: [
          `${inspection.owner.seenOn} is tracked by ${who}, but this cluster serves no ${resourceOf(inspection.owner.kind)}: the controller may run in another cluster, so whether it would put ${from} back is not known here.`,
        ],
        steps: [],
      };
    case 'missing': {
      const where = inspection.owner.kind === 'Application' ? ' (gitops.argocd.namespace says where to look)' : '';
      return {
        notes: [
          `${inspection.owner.seenOn} is tracked by ${who}, but there is no such ${inspection.owner.kind}${where}: whether something would put ${from} back is not known.`,
        ],
        steps: [],
      };
    }
    case 'forbidden':
      return {
        notes: [
          `Could not read ${who}: the bot's Kubernetes identity needs get and patch on ${resourceOf(inspection.owner.kind)} to tell whether it would put ${from} back${context.suspend ? ' and to suspend it; the rollback stops before the change if it still cannot' : ''} (${inspection.message}).`,
        ],
        steps: [],
      };
    case 'unreadable':
      return {
        notes: [`Could not read ${who}, so whether it would put ${from} back is not known: ${inspection.message}`],
        steps: [],
      };
  }
}
