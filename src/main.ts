#!/usr/bin/env node
import { type Config, ConfigError, loadConfig, type Mode } from './config/load-config.js';
import { nodeVersionProblem, readDotEnv } from './config/start-up.js';
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
  const tooOld = nodeVersionProblem();
  if (tooOld) {
    console.error(tooOld);
    process.exit(1);
  }
  readDotEnv();
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
  let running: Awaited<ReturnType<typeof run>>;
  try {
    running = await run(config, log, { workerLockMs: config.workerLockMs });
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

await main();
