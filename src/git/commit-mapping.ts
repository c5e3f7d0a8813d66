import type { VersionInfo } from '../core/types.js';
import type { GitSettings } from './schema.js';

/**
 * Hex runs of 7–40 characters standing as words: after a space, "+", "-", "sha-", or the "-g" of
 * `git describe` (v1.4.2-3-gabc1234). Case-insensitive; the result is lower-cased.
 */
const DEFAULT_CANDIDATES = /(?:\b|(?<=-g))([0-9a-f]{7,40})\b/gi;

/** What a custom pattern may capture: an abbreviated or full sha (SHA-1 or SHA-256). Nothing else reaches git. */
const SHA = /^[0-9a-f]{4,64}$/;

/** The field a version's commit is read from and what it holds, for messages that say where we looked. */
export function mappingSource(
  version: VersionInfo,
  settings: Pick<GitSettings, 'commitFrom'>,
): { field: string; value: string | undefined } {
  return { field: settings.commitFrom, value: version.meta?.[settings.commitFrom] };
}

/**
 * The commit a deployed version was built from, or undefined when its field says none.
 *
 * The default pattern prefers a run with both digits and letters: a version comment such as
 * "deploy 20260517 abc1234" holds a date and a build number that are also hex, and English words
 * such as "defaced" are too. An all-digit or all-letter run is taken only when nothing better is there.
 */
export function commitFor(
  version: VersionInfo,
  settings: Pick<GitSettings, 'commitFrom' | 'pattern'>,
): string | undefined {
  const { value } = mappingSource(version, settings);
  if (!value) return undefined;
  if (settings.pattern !== undefined) {
    const captured = new RegExp(settings.pattern).exec(value)?.[1]?.trim().toLowerCase();
    return captured !== undefined && SHA.test(captured) ? captured : undefined;
  }
  const candidates = [...value.matchAll(DEFAULT_CANDIDATES)].map((m) => (m[1] ?? '').toLowerCase());
  return candidates.find((c) => /[0-9]/.test(c) && /[a-f]/.test(c)) ?? candidates[0];
}
