/**
 * The break-glass CLI as people run it: a child process of the bundled src/cli/main.ts (bundleForNode), with
 * only the environment given (and PATH), stdin not a terminal.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(entry: string, args: string[], env: Record<string, string>, cwd?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], {
      cwd: cwd ?? tmpdir(),
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** stdout as the one JSON document `--json` promises, or a failure that shows what came instead. */
export function jsonOf(run: CliRun): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
