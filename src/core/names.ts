/**
 * The words `/rollback` reads as its own commands (help, status, freeze, …): a target of that name could never
 * be asked for, so rollback.yml refuses it. README.md lists the same words (a test compares them).
 */
export const RESERVED_TARGET_NAMES: readonly string[] = [
  'help',
  'list',
  'targets',
  'status',
  'history',
  'freeze',
  'unfreeze',
  'gate',
];

/** The longest reason a request keeps (link the incident instead). */
export const MAX_REASON_LENGTH = 500;

/** The closest known name, for "did you mean". */
export function closestName(input: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = levenshtein(input, name);
    if (distance <= Math.max(2, Math.floor(name.length / 3)) && (!best || distance < best.distance))
      best = { name, distance };
  }
  return best?.name;
}

function levenshtein(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 10) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? Number.POSITIVE_INFINITY;
}
