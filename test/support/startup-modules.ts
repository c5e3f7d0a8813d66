/**
 * Run as a child process (`node --import tsx test/support/startup-modules.ts <rollback.yml>`) by
 * test/integration/driver-loading.test.ts: does what start-up does with a rollback.yml — loadConfig, then
 * createDrivers — and prints, as JSON, every module Node was asked to import as an ES module
 * (`resolved`, file URLs) and every CommonJS file it required (`required`, paths).
 *
 * A child process, because a module loaded once stays loaded: a test in a shared process could not tell
 * this start-up's loads from any earlier test's.
 */
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const file = process.argv[2];
if (!file) throw new Error('usage: startup-modules.ts <rollback.yml>');

// Resolve hooks run on their own thread; a file is the simplest way back.
const record = join(mkdtempSync(join(tmpdir(), 'rr-modules-')), 'resolved.txt');
const hooks = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(record)}, result.url + '\\n');
  return result;
}`;
appendFileSync(record, '');
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

const { loadConfig } = await import('../../src/config/load-config.js');
const { createDrivers } = await import('../../src/wiring.js');
const { silentLogger } = await import('../../src/log.js');

const config = loadConfig(
  {
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: 'test',
    FASTLY_API_TOKEN: 'test',
    FASTLY_API_URL: 'http://127.0.0.1:9',
  },
  { file },
);
const drivers = await createDrivers(config, silentLogger());

const resolved = readFileSync(record, 'utf8').split('\n').filter(Boolean);
const required = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify({ drivers: [...drivers.keys()], resolved, required }));
