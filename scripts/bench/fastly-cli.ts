/**
 * The baseline a person has today: the official `fastly` CLI (fetched on first use from
 * @fastly/cli-linux-x64) doing what the runbook says, on the same Fastly simulator as the bot:
 *   1. plan:      fastly service version list --service-id S --json   (which version is active, which was before)
 *   2. activate:  fastly service version activate --service-id S --version N
 *   3. read back: fastly service version list --service-id S --json   (is N active?)
 * The wall clock of the three commands is what is compared; typing time is not counted.
 */
import { startFastlyCli } from '../../test/support/fastly-cli.js';
import type { FastlySimulator } from '../../test/support/fastly-simulator.js';
import { checkDeadline } from './common.js';

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
  // A HOME of its own, and its update checks refused by a local proxy: nothing leaves the machine.
  const fastlyCli = await startFastlyCli(fastly);
  const cli = async (args: string[]) => {
    const started = performance.now();
    const { stdout } = await fastlyCli.run(args, { timeoutMs: 30_000 });
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
      const previous = plan.versions
        .filter((v) => v.Locked && v.Number < active.Number)
        .sort((a, b) => b.Number - a.Number)[0];
      if (!previous) throw new Error('fastly CLI: nothing to roll back to');
      const activated = await cli([
        'service',
        'version',
        'activate',
        '--service-id',
        CLI_SERVICE,
        '--version',
        String(previous.Number),
      ]);
      const readBack = await list();
      const wall = performance.now() - started;
      if (readBack.versions.find((v) => v.Active)?.Number !== previous.Number)
        throw new Error(`fastly CLI: v${previous.Number} is not active after activating it`);
      if (round >= 0) {
        result.wallMs.push(wall);
        result.commandMs.push([plan.ms, activated.ms, readBack.ms]);
        if (round === 0)
          result.requests = fastly.requests
            .slice(requestsBefore)
            .map((r) => `${r.method} ${r.path.replace(CLI_SERVICE, '{id}')}`);
      }
      // Someone fixes forward, so the next round has a bad version to roll back from.
      fastly.addVersion(CLI_SERVICE, { number: nextVersion, locked: true, comment: `fix ${nextVersion}` });
      fastly.activateOutOfBand(CLI_SERVICE, nextVersion++);
    }
  } finally {
    result.proxyAttempts = fastlyCli.proxy.attempts.length;
    await fastlyCli.close();
  }
  return result;
}
