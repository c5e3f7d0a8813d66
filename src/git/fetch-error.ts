import { RollbackError } from '../core/errors.js';
import type { GitCommandError } from './git-runner.js';

/** What a clone or fetch that git refused means for the operator: a wrong branch, access, address, or the network. */
export function fetchError(error: GitCommandError, repo: string, base: string, target: string): RollbackError {
  const reason = error.reason;
  if (/Remote branch \S+ not found|couldn't find remote ref/i.test(reason)) {
    return new RollbackError('CONFIG_INVALID', `${repo} has no branch ${base}.`, {
      hint: `Set git.branch for ${target} in rollback.yml to the branch that is deployed.`,
      cause: error,
    });
  }
  if (
    /Permission denied|Authentication failed|could not read Username|terminal prompts disabled|returned error: 40[13]|Host key verification failed|access denied|not authorized/i.test(
      reason,
    )
  ) {
    return new RollbackError('PROVIDER_AUTH', `The worker may not read ${repo}: ${reason}`, {
      hint: "For https give GIT_TOKEN a token that may read and push the repository; for ssh load a deploy key with write access in the worker's ssh agent or GIT_SSH_COMMAND, and make sure the host is in known_hosts.",
      cause: error,
    });
  }
  if (/does not appear to be a git repository|not found|does not exist/i.test(reason)) {
    return new RollbackError('CONFIG_INVALID', `${repo} cannot be read as a git repository: ${reason}`, {
      hint: `Check git.repo for ${target} in rollback.yml.`,
      cause: error,
    });
  }
  return new RollbackError('PROVIDER_UNAVAILABLE', `Could not fetch ${repo}: ${reason}`, {
    hint: 'Try again in a minute; if it keeps failing, check the worker can reach the git host.',
    retryable: true,
    cause: error,
  });
}
