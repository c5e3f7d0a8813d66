import { type DiffObject, NAMES_KEPT, type PlanChange } from '../../core/changes.js';

/** Lines of Fastly's generated configuration that open an object, and what kind of object. */
const OPENERS: Array<{ pattern: RegExp; type: string; inner: boolean }> = [
  { pattern: /^backend F_(\S+) \{/, type: 'backend', inner: false },
  { pattern: /^director (\S+)/, type: 'director', inner: false },
  { pattern: /^table (\S+)/, type: 'dictionary', inner: false },
  { pattern: /^acl (\S+)/, type: 'acl', inner: false },
  { pattern: /^sub (\S+) \{/, type: 'vcl', inner: false },
  { pattern: /^\s*# Snippet (\S+) :/, type: 'snippet', inner: true },
  { pattern: /^\s*# (?:Request|Cache|Response) Condition: (\S+)/, type: 'condition', inner: true },
  { pattern: /^\s*# Header rule:? (\S+)/, type: 'header', inner: true },
];
const DOMAIN = /^# Domain (\S+)/;
/** The end of Fastly's own part of a subroutine, or of an object at the top level. */
const CLOSES_INNER = /^#--FASTLY \S+ END|^\}/;

/**
 * The summary of Fastly's text diff between two versions (GET /service/{id}/diff/…): lines added and removed,
 * and the objects they belong to, found from the generated configuration's own headers in the diff's lines
 * (changed or context). A change under no recognised header counts as `vcl` "other" (a blank one as none). Identical versions (Fastly
 * then sends the whole configuration, no line marked) give zero lines and no objects.
 */
export function summariseDiff(diff: string): Extract<PlanChange, { kind: 'config-diff' }> {
  let added = 0;
  let removed = 0;
  let outer: DiffObject | undefined;
  let inner: DiffObject | undefined;
  const objects = new Map<string, DiffObject>();
  const note = (object: DiffObject) => objects.set(`${object.type}\n${object.name}`, object);
  for (const raw of diff.split('\n')) {
    if (raw.startsWith('+++ ') || raw.startsWith('--- ')) continue;
    if (raw.startsWith('@@')) {
      outer = undefined;
      inner = undefined;
      continue;
    }
    const mark = raw.charAt(0);
    const changed = mark === '+' || mark === '-';
    const line = mark === '+' || mark === '-' || mark === ' ' ? raw.slice(1) : raw;
    const opener = OPENERS.find((o) => o.pattern.test(line));
    if (opener) {
      const object = { type: opener.type, name: opener.pattern.exec(line)?.[1] ?? '' };
      if (opener.inner) inner = object;
      else [outer, inner] = [object, undefined];
    }
    if (changed) {
      if (mark === '+') added++;
      else removed++;
      const domain = DOMAIN.exec(line);
      // A blank line between objects belongs to none of them.
      if (domain) note({ type: 'domain', name: domain[1] ?? '' });
      else if (line.trim() !== '' || inner || outer) note(inner ?? outer ?? { type: 'vcl', name: 'other' });
    }
    if (CLOSES_INNER.test(line)) {
      inner = undefined;
      if (line.startsWith('}')) outer = undefined;
    }
  }
  const all = [...objects.values()];
  const moreObjects = all.length - NAMES_KEPT;
  return {
    kind: 'config-diff',
    added,
    removed,
    objects: all.slice(0, NAMES_KEPT),
    ...(moreObjects > 0 ? { moreObjects } : {}),
  };
}
