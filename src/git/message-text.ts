/** A commit as people read it in a message: its first 12 hex characters (anything else as it is). */
export function short(sha: string): string {
  return /^[0-9a-f]{12,}$/.test(sha) ? sha.slice(0, 12) : sha;
}

/** Text from a commit or a version label on one line, so it cannot break a message's layout. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
