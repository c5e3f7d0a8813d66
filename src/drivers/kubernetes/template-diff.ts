import type { V1Container, V1PodTemplateSpec, V1ResourceRequirements } from '@kubernetes/client-node';
import type { PodTemplateDifference } from '../../core/changes.js';

function containersOf(template: V1PodTemplateSpec): Map<string, V1Container> {
  const spec = template.spec;
  return new Map([
    ...(spec?.initContainers ?? []).map((c): [string, V1Container] => [`init ${c.name}`, c]),
    ...(spec?.containers ?? []).map((c): [string, V1Container] => [c.name, c]),
  ]);
}

/** `requests cpu=100m memory=64Mi; limits memory=128Mi`, keys sorted; '' when none are set. */
function resourcesText(resources: V1ResourceRequirements | undefined): string {
  const side = (name: string, values: Record<string, string> | undefined) => {
    const entries = Object.entries(values ?? {}).sort(([a], [b]) => a.localeCompare(b));
    return entries.length ? `${name} ${entries.map(([k, v]) => `${k}=${v}`).join(' ')}` : '';
  };
  return [side('requests', resources?.requests), side('limits', resources?.limits)].filter(Boolean).join('; ');
}

/** Environment variables by name, each with what defines it (a value or a reference); compared, never shown. */
function envOf(container: V1Container): Map<string, string> {
  return new Map((container.env ?? []).map((e) => [e.name, JSON.stringify([e.value ?? null, e.valueFrom ?? null])]));
}

function envDifference(name: string, from: V1Container, to: V1Container): PodTemplateDifference | undefined {
  const before = envOf(from);
  const after = envOf(to);
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const changed = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k));
  if (added.length + removed.length + changed.length === 0) return undefined;
  return { container: name, field: 'env', added, removed, changed };
}

function containerDifferences(name: string, from: V1Container, to: V1Container): PodTemplateDifference[] {
  const fields: Array<['image' | 'resources' | 'command' | 'args', string, string]> = [
    ['image', from.image ?? '', to.image ?? ''],
    ['resources', resourcesText(from.resources), resourcesText(to.resources)],
    ['command', (from.command ?? []).join(' '), (to.command ?? []).join(' ')],
    ['args', (from.args ?? []).join(' '), (to.args ?? []).join(' ')],
  ];
  const differences: PodTemplateDifference[] = fields
    .filter(([, a, b]) => a !== b)
    .map(([field, a, b]) => ({ container: name, field, from: a, to: b }));
  const env = envDifference(name, from, to);
  return env ? [...differences, env] : differences;
}

/**
 * What matters to an approver between the pod template running now (`from`) and the one a rollback restores
 * (`to`): containers that come back or go away, and per container its image, resources, command, args, and env
 * var names (added, removed or changed by the rollback; values are never read out: they may be secrets).
 */
export function podTemplateDifferences(from: V1PodTemplateSpec, to: V1PodTemplateSpec): PodTemplateDifference[] {
  const before = containersOf(from);
  const after = containersOf(to);
  const differences: PodTemplateDifference[] = [];
  for (const [name, container] of after) {
    const old = before.get(name);
    if (old) differences.push(...containerDifferences(name, old, container));
    else differences.push({ container: name, field: 'container', change: 'added' });
  }
  for (const name of before.keys()) {
    if (!after.has(name)) differences.push({ container: name, field: 'container', change: 'removed' });
  }
  return differences;
}
