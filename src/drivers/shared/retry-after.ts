/** A Retry-After header's value, in seconds or as an HTTP date, as milliseconds from `now`; undefined when unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  const secs = Number(text);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(text);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}
