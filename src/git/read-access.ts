import { mkdir } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { DEFAULT_GIT_TIMEOUTS, GitRunner } from './git-runner.js';
import type { GitSettings } from './schema.js';

/** Who the bot is to git: it only reads here (a fetch into its cached clone), but git wants an identity. */
const BOT = { name: 'rapid-rollback', email: 'rapid-rollback@users.noreply.invalid' };

/**
 * What a read of a target's repository needs (the deploy gate's question, the plan's commits taken out): a git
 * runner on `settings.repo` with the default timeouts, and the cached clones' directory, made if missing.
 */
export async function readAccess(
  settings: GitSettings,
  cacheDir: string,
  ctx: { signal: AbortSignal; log: Logger; env?: NodeJS.ProcessEnv | undefined },
) {
  const runner = new GitRunner({
    env: ctx.env ?? process.env,
    repo: settings.repo,
    identity: { author: BOT, committer: BOT },
    signal: ctx.signal,
    log: ctx.log,
    timeouts: DEFAULT_GIT_TIMEOUTS,
  });
  await mkdir(cacheDir, { recursive: true });
  return { runner, cacheDir, signal: ctx.signal, log: ctx.log, report: () => undefined };
}
