import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';

/**
 * docker/entrypoint.sh as the image runs it (`docker run IMAGE <args>`), with `node` and `rapid-rollback` on PATH
 * replaced by stubs that print what they were given: no Docker daemon is needed to know which command a
 * `docker run` ends in.
 */
const ENTRYPOINT = path.resolve('docker/entrypoint.sh');
const run = promisify(execFile);
let bin: string;

beforeAll(async () => {
  bin = await mkdtemp(path.join(tmpdir(), 'rr-entrypoint-'));
  for (const name of ['node', 'rapid-rollback']) {
    const stub = path.join(bin, name);
    await writeFile(stub, `#!/bin/sh\necho "${name} $*"\n`);
    await chmod(stub, 0o755);
  }
});

afterAll(async () => {
  await rm(bin, { recursive: true, force: true });
});

async function dockerRun(...args: string[]): Promise<string> {
  const { stdout } = await run('/bin/sh', [ENTRYPOINT, ...args], { env: { PATH: `${bin}:/usr/bin:/bin` } });
  return stdout.trim();
}

describe('docker run IMAGE …', () => {
  it('starts the bot in the mode given, all when none is', async () => {
    expect(await dockerRun()).toBe('node --max-semi-space-size=4 /app/dist/main.js');
    expect(await dockerRun('all')).toBe('node --max-semi-space-size=4 /app/dist/main.js all');
    expect(await dockerRun('app')).toBe('node --max-semi-space-size=4 /app/dist/main.js app');
    expect(await dockerRun('worker')).toBe('node --max-semi-space-size=4 /app/dist/main.js worker');
  });

  it("runs the bot with the same node flags as package.json's start script", async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: { start: string } };
    const flags = pkg.scripts.start.match(/--[a-z-]+=\S+/g) ?? [];
    expect(flags).toEqual(['--max-semi-space-size=4']);
    expect(await dockerRun('worker')).toBe(`node ${flags.join(' ')} /app/dist/main.js worker`);
  });

  it('runs any other command as given: the CLI, a shell', async () => {
    expect(await dockerRun('rapid-rollback', 'doctor')).toBe('rapid-rollback doctor');
    expect(await dockerRun('rapid-rollback', 'plan', 'cdn', '--to', 'v41')).toBe('rapid-rollback plan cdn --to v41');
    expect(await dockerRun('sh', '-c', 'echo "$0"', 'worker')).toBe('worker');
  });

  it('is what the Dockerfile and Compose run', async () => {
    const dockerfile = await readFile('docker/Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^COPY docker\/entrypoint\.sh \/usr\/local\/bin\/docker-entrypoint$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["docker-entrypoint"\]$/m);
    const compose = await readFile('docker/compose.yml', 'utf8');
    expect(compose).toContain('command: ["worker"]');
  });
});

describe('the health check (no curl in the slim image: node asks /healthz)', () => {
  let server: Server;
  let status = 200;
  let asked: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** The `node -e` script of a file's health check, run with PORT set; its exit code. */
  async function check(file: string, port: number): Promise<number> {
    const text = await readFile(file, 'utf8');
    const script = /"-e", "(fetch\([^"]*\/healthz[^"]*)"\]/.exec(text)?.[1];
    expect(script, `${file} has a node -e health check on /healthz`).toBeDefined();
    return run(process.execPath, ['-e', script ?? ''], { env: { PORT: String(port) } }).then(
      () => 0,
      (error: { code: number }) => error.code,
    );
  }

  for (const file of ['docker/Dockerfile', 'docker/compose.yml']) {
    it(`${file}: healthy on 200, unhealthy on 503 or no answer`, async () => {
      const { port } = server.address() as AddressInfo;
      asked = [];
      status = 200;
      expect(await check(file, port)).toBe(0);
      status = 503;
      expect(await check(file, port)).toBe(1);
      expect(asked).toEqual(['/healthz', '/healthz']);
      const closed = await freePort();
      expect(await check(file, closed)).toBe(1);
    });
  }
});
