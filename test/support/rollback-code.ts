import { RollbackError } from '../../src/core/errors.js';

/** The code of the RollbackError `fn` throws, 'not-coded' for any other error, undefined when it returns. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof RollbackError ? error.code : 'not-coded';
  }
  return undefined;
}
