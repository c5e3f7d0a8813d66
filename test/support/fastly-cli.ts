/**
 * The official `fastly` CLI (Go, go-fastly; fetched on first use, see fastly-cli-binary.ts) pointed at a
 * Fastly simulator, as the simulator's tests and the benchmark's by-hand baseline run it: a HOME of its
 * own, and a proxy that refuses everything bound for the internet (its update checks), so nothing leaves
 * the machine and nothing waits on the network.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fastlyCliBinary } from './fastly-cli-binary.js';

const run = promisify(execFile);

interface RefusingProxy {
  url: string;
  /** The request line of every attempt, e.g. "CONNECT api.github.com:443 HTTP/1.1". */
  attempts: string[];
  close(): Promise<void>;
}

/**
 * A proxy that answers every attempt with 403 and remembers it. Go never proxies loopback addresses,
 * so the simulator is reached directly and only internet-bound requests come here.
 */
async function startRefusingProxy(): Promise<RefusingProxy> {
  const attempts: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      attempts.push(head.split('\r\n')[0] ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    attempts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface FastlyCli {
  /** Its HOME (XDG_CONFIG_HOME is `.config` in it), a temporary directory removed by close(). */
  readonly home: string;
  readonly proxy: RefusingProxy;
  /**
   * `fastly <args> --non-interactive` with only this environment (and PATH). Rejects as execFile does
   * when it exits non-zero or runs out of time: the error carries `code`, `stdout` and `stderr`.
   */
  run(args: string[], options?: { token?: string; timeoutMs?: number }): Promise<{ stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** The CLI against `sim` (its URL for the API and the account endpoint, its token unless told another). */
export async function startFastlyCli(sim: { url: string; token: string }): Promise<FastlyCli> {
  const binary = await fastlyCliBinary();
  const home = mkdtempSync(join(tmpdir(), 'fastly-cli-home-'));
  mkdirSync(join(home, '.config'), { recursive: true });
  const proxy = await startRefusingProxy();
  return {
    home,
    proxy,
    run: (args, options = {}) =>
      run(binary, [...args, '--non-interactive'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          XDG_CONFIG_HOME: join(home, '.config'),
          FASTLY_API_ENDPOINT: sim.url,
          FASTLY_ACCOUNT_ENDPOINT: sim.url,
          FASTLY_API_TOKEN: options.token ?? sim.token,
          HTTPS_PROXY: proxy.url,
          HTTP_PROXY: proxy.url,
          NO_PROXY: '',
        },
        timeout: options.timeoutMs ?? 30_000,
      }),
    async close() {
      await proxy.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
