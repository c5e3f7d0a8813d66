/** rollback.yml bodies loaded the way start-up loads them, for the config tests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'rr-config-file-'));

/** Loads `body` (the whole file) with a valid environment; throws ConfigError as start-up would. */
export function loadBody(body: string) {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(path, body);
  return loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', FASTLY_API_TOKEN: 'f' }, { file: path });
}

/** The problems start-up names for `body`, without the file's path; fails when it loads. */
export function problemsOf(body: string): string[] {
  try {
    loadBody(body);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.replace(/^.*?\.yml: /, ''));
    throw error;
  }
  throw new Error('expected a ConfigError');
}
