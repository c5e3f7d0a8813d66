import { RollbackError } from '../core/errors.js';

/** Bytes git refuses anywhere in a ref: controls, space, DEL, ~ ^ : ? * [ and backslash. */
const FORBIDDEN = /[\x00-\x20\x7f~^:?*[\\]/;

/**
 * Throws CONFIG_INVALID unless `refs/heads/<name>` is a ref name git takes exactly as written: the rules
 * of `git check-ref-format --normalize` (see its --help), checked here so that no git process is spent
 * on it, and a name git would normalise (a doubled or leading slash) refused rather than changed.
 * Branch names come from rollback.yml and the request ID.
 */
export function checkBranchName(name: string, what: string): void {
  if (!isPlainBranchName(name)) {
    throw new RollbackError('CONFIG_INVALID', `${what} is not a valid git branch name.`, {
      hint: 'See `git check-ref-format --help` for what a branch name may hold.',
    });
  }
}

function isPlainBranchName(name: string): boolean {
  // A leading "-" would read as an option to the commands that take the branch.
  if (name.length === 0 || name.startsWith('-')) return false;
  const ref = `refs/heads/${name}`;
  if (FORBIDDEN.test(ref) || ref.includes('..') || ref.includes('@{') || ref.endsWith('.')) return false;
  return ref.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}
