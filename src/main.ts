#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { type Config, ConfigError, loadConfig, type Mode } from './config/load-config.js';
import { isRollbackError } from './core/errors.js';
import { createLogger } from './log.js';
import { run } from './wiring.js';

const MODES: readonly Mode[] = ['all', 'app', 'worker'];

async function main(): Promise<void> {
  const mode = (process.argv[2] ?? 'all') as Mode;
  if (!MODES.includes(mode)) {
    console.error(
      `Unknown mode "${process.argv[2]}": use one of ${MODES.join(', ')} (default all: the Slack app and a worker in one process).`,
    );
    process.exit(2);
  }
  // A .env beside the process is read for convenience; real environment variables win over it.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig(process.env, { mode });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error('rapid-rollback cannot start:');
      for (const problem of error.problems) console.error(`  - ${problem}`);
      console.error('Every setting is described in README.md ("Configuration").');
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger({ level: config.logLevel });
  const workerLockMs = lockMsFrom(process.env.RR_WORKER_LOCK_MS);
  let running: Awaited<ReturnType<typeof run>>;
  try {
    running = await run(config, log, { workerLockMs });
  } catch (error) {
    if (isRollbackError(error)) {
      console.error(`rapid-rollback cannot start: ${error.toUserText()}`);
      process.exit(1);
    }
    throw error;
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new jobs; the running ones finish first');
    await running.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * RR_WORKER_LOCK_MS: a tuning and test knob, not part of loadConfig's settings. How long a worker's hold on a
 * running job lasts without renewal; a job whose worker died resumes on another worker about that long after.
 */
function lockMsFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 200) {
    console.error(
      `rapid-rollback cannot start:\n  - RR_WORKER_LOCK_MS must be a whole number of milliseconds, at least 200 (got "${value}"); leave it unset for 10000.`,
    );
    process.exit(1);
  }
  return ms;
}

await main();
