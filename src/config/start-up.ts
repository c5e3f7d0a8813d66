import { existsSync } from 'node:fs';

/** process.loadEnvFile, which reads .env, came in Node 20.12 (and 21.7). */
const OLDEST = [20, 12] as const;

/** Why this Node cannot run rapid-rollback, in a sentence that says what to do; undefined when it can. */
export function nodeVersionProblem(version: string = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > OLDEST[0] || (major === OLDEST[0] && minor >= OLDEST[1])) return undefined;
  return `rapid-rollback needs Node ${OLDEST.join('.')} or newer (it reads .env with process.loadEnvFile); this is Node ${version}: install a current Node 20 or 22 LTS.`;
}

/** A .env beside the process is read for convenience (the bot and the CLI alike); real environment variables win. */
export function readDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}
