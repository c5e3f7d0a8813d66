/**
 * The baseline a person has today: the official `fastly` CLI (node_modules/.bin/fastly, from
 * @fastly/cli) doing what the runbook says, on the same Fastly simulator as the bot:
 *   1. plan:      fastly service version list --service-id S --json   (which version is active, which was before)
 *   2. activate:  fastly service version activate --service-id S --version N
 *   3. read back: fastly service version list --service-id S --json   (is N active?)
 * The wall clock of the three commands is what is compared; typing time is not counted.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastlySimulator } from '../../test/support/fastly-simulator.js';
import { checkDeadline, startRefusingProxy, tempDir } from './common.js';

const run = promisify(execFile);
const FASTLY_CLI = fileURLToPath(new URL('../../node_modules/.bin/fastly', import.meta.url));
export const CLI_SERVICE = 'CL1Z0isxPaozGVKXdv0eY';

interface CliVersion {
  Number: number;
  Active: boolean;
  Locked: boolean;
}

export interface CliResult {
  /** Wall clock of plan + activate + read-back, per round. */
  wallMs: number[];
  /** Per command (list, activate, list), per round. */
  commandMs: number[][];
  /** Fastly API requests the CLI made per round, e.g. ["GET /realms/…", …]. */
  requests: string[];
  proxyAttempts: number;
}

export async function fastlyCliRounds(fastly: FastlySimulator, rounds: number): Promise<CliResult> {
  fastly.addService({ id: CLI_SERVICE, name: 'www-cli', versions: 42, active: 42 });
  const home = tempDir('fastly-cli-home');
  mkdirSync(join(home, '.config'), { recursive: true });
  const proxy = await startRefusingProxy();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    FASTLY_API_ENDPOINT: fastly.url,
    FASTLY_ACCOUNT_ENDPOINT: fastly.url,
    FASTLY_API_TOKEN: fastly.token,
    HTTPS_PROXY: proxy.url,
    HTTP_PROXY: proxy.url,
    NO_PROXY: '',
  };
  const cli = async (args: string[]) => {
    const started = performance.now();
    const { stdout } = await run(FASTLY_CLI, [...args, '--non-interactive'], { env, timeout: 30_000 });
    return { stdout, ms: performance.now() - started };
  };
  const list = async () => {
    const { stdout, ms } = await cli(['service', 'version', 'list', '--service-id', CLI_SERVICE, '--json']);
    return { versions: JSON.parse(stdout) as CliVersion[], ms };
  };

  const result: CliResult = { wallMs: [], commandMs: [], requests: [], proxyAttempts: 0 };
  let nextVersion = 43;
  try {
    // One unmeasured run first, as for the bot: the binary is in the page cache after it.
    for (let round = -1; round < rounds; round++) {
      checkDeadline();
      const requestsBefore = fastly.requests.length;
      const started = performance.now();
      const plan = await list();
      const active = plan.versions.find((v) => v.Active);
      if (!active) throw new Error('fastly CLI: no active version listed');
      // What the runbook says to restore: the newest locked version below the active one.
      const previous = plan.versions.filter((v) => v.Locked && v.Number < active.Number).sort((a, b) => b.Number - a.Number)[0];
      if (!previous) throw new Error('fastly CLI: nothing to roll back to');
      const activated = await cli(['service', 'version', 'activate', '--service-id', CLI_SERVICE, '--version', String(previous.Number)]);
      const readBack = await list();
      const wall = performance.now() - started;
      if (readBack.versions.find((v) => v.Active)?.Number !== previous.Number) throw new Error(`fastly CLI: v${previous.Number} is not active after activating it`);
      if (round >= 0) {
        result.wallMs.push(wall);
        result.commandMs.push([plan.ms, activated.ms, readBack.ms]);
        if (round === 0) result.requests = fastly.requests.slice(requestsBefore).map((r) => `${r.method} ${r.path.replace(CLI_SERVICE, '{id}')}`);
      }
      // Someone fixes forward, so the next round has a bad version to roll back from.
      fastly.addVersion(CLI_SERVICE, { number: nextVersion, locked: true, comment: `fix ${nextVersion}` });
      fastly.activateOutOfBand(CLI_SERVICE, nextVersion++);
    }
  } finally {
    result.proxyAttempts = proxy.attempts.length;
    await proxy.close();
  }
  return result;
}
