/**
 * A real monitoring daemon (Prometheus, Alertmanager) started by a test: its own config in a temporary
 * directory, a free loopback port, ready once `/-/ready` answers; stopped (SIGTERM, SIGKILL after 5 s) and its
 * directory removed after.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.js';
import { waitUntil } from './wait.js';

export interface LoopbackDaemon {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `binary` with `config` written as YAML to `<dir>/<name>.yml`; `args(dir, configFile, port)` gives its
 * command line. Resolves once it answers `/-/ready`; a daemon that exits first fails with what it printed.
 */
export async function startLoopbackDaemon(options: {
  name: string;
  binary: string;
  config: unknown;
  args: (paths: { dir: string; configFile: string; port: number }) => string[];
}): Promise<LoopbackDaemon> {
  const { name } = options;
  const dir = mkdtempSync(join(tmpdir(), `rr-${name}-`));
  const configFile = join(dir, `${name}.yml`);
  writeFileSync(configFile, stringify(options.config));
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(options.binary, options.args({ dir, configFile, port }), { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => output.push(String(chunk)));
  const daemon: LoopbackDaemon = { url: `http://127.0.0.1:${port}`, stop: () => stop(child, dir) };
  try {
    await waitUntil(
      `${name} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${output.join('')}`);
        return (await fetch(`${daemon.url}/-/ready`).catch(() => undefined))?.ok;
      },
      30_000,
    );
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  return daemon;
}

async function stop(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
}
