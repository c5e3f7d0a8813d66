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

/**
 * The environment a CLI run gets against the simulators and the real Redis: the Slack and Fastly simulators'
 * tokens and URLs, the key prefix and the rollback.yml, plus `extra` (GIT_CACHE_DIR, USER…).
 */
export function simulatorEnv(world: {
  slack: { botToken: string; apiUrl: string };
  fastly: { token: string; url: string };
  redisUrl: string;
  prefix: string;
  file: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: world.slack.botToken,
    SLACK_API_URL: world.slack.apiUrl,
    FASTLY_API_TOKEN: world.fastly.token,
    FASTLY_API_URL: world.fastly.url,
    REDIS_URL: world.redisUrl,
    REDIS_PREFIX: world.prefix,
    ROLLBACK_CONFIG: world.file,
    ...world.extra,
  };
}
