import type { DiffObject, PlanChange, PodTemplateDifference } from './changes.js';
import type { Plan } from './types.js';

/**
 * A plan's changes in plain words, the same in Slack and in a terminal: a title and its lines. Every string
 * may hold provider text (object names, images, commit subjects): each front end escapes all of it.
 */
export interface ChangeWords {
  title: string;
  lines: string[];
}

/** Names listed before "and N more". */
const NAMES_SHOWN = 12;

function list(names: readonly string[], shown = NAMES_SHOWN, beyond = 0): string {
  const more = Math.max(0, names.length - shown) + beyond;
  return `${names.slice(0, shown).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

const PLURAL: Record<string, string> = { vcl: 'VCL', dictionary: 'dictionaries', acl: 'ACLs' };

function objectLine(objects: readonly DiffObject[], more: number): string {
  const byType = new Map<string, string[]>();
  for (const o of objects) byType.set(o.type, [...(byType.get(o.type) ?? []), o.name]);
  const line = [...byType].map(([type, names]) => `${PLURAL[type] ?? `${type}s`}: ${list(names, 6)}`).join(' · ');
  return more > 0 ? `${line} · and ${more} more objects` : line;
}

function podLine(d: PodTemplateDifference): string {
  switch (d.field) {
    case 'container':
      return `${d.container}: container ${d.change === 'added' ? 'comes back' : 'goes away'}`;
    case 'env': {
      const parts = [
        d.added.length ? `${list(d.added)} added` : '',
        d.removed.length ? `${list(d.removed)} removed` : '',
        d.changed.length ? `${list(d.changed)} changed` : '',
      ].filter(Boolean);
      return `${d.container}: env ${parts.join('; ')} (names only)`;
    }
    default:
      return `${d.container}: ${d.field} ${d.from || '(none)'} → ${d.to || '(none)'}`;
  }
}

function wordsOf(plan: Plan, change: PlanChange): ChangeWords {
  const span = `${plan.from.label} → ${plan.to.label}`;
  switch (change.kind) {
    case 'config-diff':
      return change.added + change.removed === 0
        ? { title: `Diff ${span}`, lines: ['no difference in the configuration'] }
        : {
            title: `Diff ${span}`,
            lines: [
              `+${change.added} −${change.removed} lines`,
              ...(change.objects.length ? [objectLine(change.objects, change.moreObjects ?? 0)] : []),
            ],
          };
    case 'values-keys':
      return {
        title: `Values keys that differ (names only), ${span}`,
        lines: [change.keys.length ? list(change.keys, 20, change.more ?? 0) : 'none: the values are the same'],
      };
    case 'pod-template':
      return {
        title: `Pod template differences, ${span}`,
        lines: change.differences.length
          ? change.differences.map(podLine)
          : ['no difference in images, env, resources or command'],
      };
    case 'commits':
      return {
        title: `Commits taken out of production (${change.repo})`,
        lines: [
          ...(change.commits.length ? [] : ['none']),
          ...change.commits.map((c) => `${c.sha} ${c.subject} — ${c.author}`),
          ...(change.more > 0 ? [`and ${change.more} more`] : []),
        ],
      };
    case 'unavailable':
      return { title: `${change.about} not available: ${change.reason}`, lines: [] };
  }
}

/** What the plan changes, one block of words per change; empty when the plan says nothing of it. */
export function changeWords(plan: Plan): ChangeWords[] {
  return (plan.changes ?? []).map((c) => wordsOf(plan, c));
}

/** Whether the provider's full diff is worth a "Show diff" (Fastly's diff has lines that differ). */
export function hasFullDiff(plan: Plan): boolean {
  return (plan.changes ?? []).some((c) => c.kind === 'config-diff' && c.added + c.removed > 0);
}
