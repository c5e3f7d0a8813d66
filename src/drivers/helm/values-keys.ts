import { createHash } from 'node:crypto';

/**
 * A revision's user-supplied values (what `helm get values --revision N` prints) as key paths and a digest of each
 * value: enough to tell which keys differ between two revisions without keeping any value, which may be a secret.
 * Paths read like Helm's --set: `image.tag`, `env[0].name`.
 */
export function valueDigests(values: unknown): Record<string, string> {
  const digests: Record<string, string> = {};
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value) && value.length > 0) {
      for (const [i, item] of value.entries()) walk(item, `${path}[${i}]`);
    } else if (typeof value === 'object' && value !== null && Object.keys(value).length > 0) {
      for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key);
    } else if (path) {
      digests[path] = createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 16);
    }
  };
  walk(values, '');
  return digests;
}

/** The key paths set in only one of the two revisions, or set to different values, sorted. */
export function differingKeys(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}
