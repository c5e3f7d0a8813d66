import { pino } from 'pino';
import { type CliConfig, loadConfig } from '../config/load-config.js';
import { RollbackError } from '../core/errors.js';
import { createLogger, type Logger } from '../log.js';
import type { Output } from './output.js';

/** What every command gets from the global options. */
export interface CliContext {
  out: Output;
  env: NodeJS.ProcessEnv;
  /** --config: overrides ROLLBACK_CONFIG. */
  configFile: string | undefined;
}

/**
 * The worker's view of the configuration: the CLI never serves HTTP, so no signing secret is needed, and it works
 * without SLACK_BOT_TOKEN (Slack may be down, or not set up yet): each command says what Slack was not told.
 */
export function loadCliConfig(ctx: CliContext): CliConfig {
  return loadConfig(ctx.env, { mode: 'worker', file: ctx.configFile, slack: 'optional' });
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * pino on stderr, so stdout carries only results. The bot logs `info` by default; at a terminal the
 * CLI says what happened in words, so it logs errors only unless LOG_LEVEL asks for more.
 */
export function cliLogger(env: NodeJS.ProcessEnv): Logger {
  const asked = env.LOG_LEVEL?.trim();
  const level = asked && LEVELS.includes(asked) ? asked : 'error';
  return createLogger({ level, destination: pino.destination({ dest: 2, sync: true }) });
}

export function isDebug(env: NodeJS.ProcessEnv): boolean {
  return ['debug', 'trace'].includes(env.LOG_LEVEL?.trim() ?? '');
}

/** A driver call with its own deadline, as RollbackService gives its plan calls. */
export function driverContext(log: Logger, timeoutMs: number) {
  return { log, signal: AbortSignal.timeout(timeoutMs), report: () => undefined };
}

/**
 * A change needs its confirmation: --yes, or a terminal to ask on. Without either, refuses before anything is
 * done: "Not <doing> without a confirmation, and stdin is not a terminal, so nobody can give one."
 */
export function requireConfirmation(yes: boolean | undefined, doing: string, hint: string): void {
  if (yes || process.stdin.isTTY) return;
  throw new RollbackError(
    'COMMAND_INVALID',
    `Not ${doing} without a confirmation, and stdin is not a terminal, so nobody can give one.`,
    { hint },
  );
}
