/** Label and field selectors, in the string form of `?labelSelector=` / `?fieldSelector=` and as objects. */
import { ApiError } from './api-error.js';
import type { KubeObject } from './object-store.js';

type Labels = Record<string, string> | undefined;
type Requirement = (labels: Record<string, string>) => boolean;

export function parseLabelSelector(selector: string | undefined): (labels: Labels) => boolean {
  const requirements = splitTopLevel(selector ?? '').map(parseRequirement);
  return (labels) => requirements.every((r) => r(labels ?? {}));
}

function parseRequirement(raw: string): Requirement {
  const text = raw.trim();
  const setMatch = /^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (setMatch) {
    const [, key, op, list] = setMatch as unknown as [string, string, string, string];
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in' ? (l) => key in l && values.has(l[key] ?? '') : (l) => !(key in l) || !values.has(l[key] ?? '');
  }
  const opMatch = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s,]*)$/.exec(text);
  if (opMatch) {
    const [, key, op, value] = opMatch as unknown as [string, string, string, string];
    return op === '!=' ? (l) => l[key] !== value : (l) => key in l && l[key] === value;
  }
  if (/^![^\s!=]+$/.test(text)) {
    const key = text.slice(1);
    return (l) => !(key in l);
  }
  if (/^[^\s!=()]+$/.test(text)) return (l) => text in l;
  throw ApiError.badRequest(`unable to parse requirement: ${text}`);
}

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.filter((p) => p.trim() !== '');
}

/** Field selectors: `a.b=c`, `a.b==c`, `a.b!=c`, comma-separated, on any dotted path. */
export function parseFieldSelector(selector: string | undefined): (object: KubeObject) => boolean {
  const requirements = splitTopLevel(selector ?? '').map((raw) => {
    const match = /^([^!=]+)(==|=|!=)(.*)$/.exec(raw.trim());
    if (!match) throw ApiError.badRequest(`invalid selector: '${raw}'; can't understand '${raw}'`);
    const [, path, op, value] = match as unknown as [string, string, string, string];
    return (object: KubeObject) => {
      const actual = fieldValue(object, path);
      return op === '!=' ? actual !== value : actual === value;
    };
  });
  return (object) => requirements.every((r) => r(object));
}

function fieldValue(object: KubeObject, path: string): string {
  let value: unknown = object;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return '';
    value = (value as Record<string, unknown>)[part];
  }
  return value === undefined || value === null ? '' : String(value);
}

/** The string form kubectl prints in `-o wide` and a Scale's status.selector. */
export function labelSelectorString(selector: KubeObject | undefined): string {
  if (!selector) return '';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const expr of selector.matchExpressions ?? []) {
    const values = [...(expr.values ?? [])].sort().join(',');
    if (expr.operator === 'In') parts.push(`${expr.key} in (${values})`);
    else if (expr.operator === 'NotIn') parts.push(`${expr.key} notin (${values})`);
    else if (expr.operator === 'Exists') parts.push(expr.key);
    else if (expr.operator === 'DoesNotExist') parts.push(`!${expr.key}`);
  }
  return parts.sort().join(',');
}
