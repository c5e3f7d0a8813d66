import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepReport } from '../../src/core/types.js';
import { httpProbe } from '../../src/verify/http-probe.js';
import { waitUntil } from '../support/wait.js';

/** A real HTTP server on 127.0.0.1 that answers each request as `answer` says: a status, or never. */
interface Upstream {
  url: string;
  hits: number;
  close: () => Promise<void>;
}

const upstreams: Upstream[] = [];

async function upstream(answer: (hit: number) => { status: number; delayMs?: number } | 'hang'): Promise<Upstream> {
  const server = http.createServer();
  const timers = new Set<NodeJS.Timeout>();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const up: Upstream = {
    url: `http://127.0.0.1:${port}/healthz`,
    hits: 0,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('request', (_req, res) => {
    const plan = answer(up.hits++);
    if (plan === 'hang') return;
    const send = () => res.writeHead(plan.status, { 'content-type': 'text/plain' }).end('ok\n');
    if (plan.delayMs) timers.add(setTimeout(send, plan.delayMs));
    else send();
  });
  upstreams.push(up);
  return up;
}

/** A port nothing listens on: bind one, then let it go. */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/healthz`;
}

function context(signal = new AbortController().signal) {
  const steps: StepReport[] = [];
  return { ctx: { signal, report: (step: StepReport) => steps.push(step) }, steps };
}

afterEach(async () => {
  await Promise.all(upstreams.splice(0).map((u) => u.close()));
});

describe('httpProbe', () => {
  it('passes on a 2xx and says how long the answer took', async () => {
    const up = await upstream(() => ({ status: 200 }));
    const { ctx, steps } = context();

    const check = await httpProbe({ url: up.url }, ctx);

    expect(check.name).toBe('HTTP probe');
    expect(check.ok).toBe(true);
    // "in 12 ms", or "in 1.0 s" on a machine busy enough.
    expect(check.detail).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/healthz → 200 in (\d+ ms|\d+\.\d s)$/);
    expect(up.hits).toBe(1);
    expect(steps).toEqual([]);
  });

  it('fails after every attempt answered 503, and says so in the thread between attempts', async () => {
    const up = await upstream(() => ({ status: 503 }));
    const { ctx, steps } = context();

    const check = await httpProbe({ url: up.url, attempts: 3, intervalMs: 10 }, ctx);

    expect(check).toEqual({ name: 'HTTP probe', ok: false, detail: `GET ${up.url} → 503 after 3 attempts` });
    expect(up.hits).toBe(3);
    expect(steps).toEqual([
      { status: 'progress', text: `HTTP probe: GET ${up.url} → 503, trying again in 10 ms (attempt 1 of 3)` },
      { status: 'progress', text: `HTTP probe: GET ${up.url} → 503, trying again in 10 ms (attempt 2 of 3)` },
    ]);
  });

  it('passes when a later attempt is healthy, and says which attempt', async () => {
    const up = await upstream((hit) => ({ status: hit === 0 ? 502 : 200 }));
    const { ctx } = context();

    const check = await httpProbe({ url: up.url, intervalMs: 10 }, ctx);

    expect(check.ok).toBe(true);
    expect(check.detail).toMatch(/→ 200 in \d+ ms \(attempt 2 of 3\)$/);
    expect(up.hits).toBe(2);
  });

  it('holds the status to expectStatus when one is given', async () => {
    const up = await upstream(() => ({ status: 200 }));
    const { ctx } = context();

    const check = await httpProbe({ url: up.url, expectStatus: 204, attempts: 2, intervalMs: 10 }, ctx);

    expect(check).toEqual({
      name: 'HTTP probe',
      ok: false,
      detail: `GET ${up.url} → 200 after 2 attempts (expected 204)`,
    });
  });

  it('gives up on a server that does not answer within timeoutMs', async () => {
    const up = await upstream(() => ({ status: 200, delayMs: 2_000 }));
    const { ctx, steps } = context();
    const started = performance.now();

    const check = await httpProbe({ url: up.url, timeoutMs: 100, attempts: 2, intervalMs: 10 }, ctx);

    expect(check).toEqual({
      name: 'HTTP probe',
      ok: false,
      detail: `GET ${up.url}: no answer within 100 ms (2 attempts)`,
    });
    expect(steps.map((s) => s.text)).toEqual([
      `HTTP probe: GET ${up.url}: no answer within 100 ms, trying again in 10 ms (attempt 1 of 2)`,
    ]);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('says "connection refused" when nothing listens', async () => {
    const url = await closedPortUrl();
    const { ctx } = context();

    const check = await httpProbe({ url, attempts: 2, intervalMs: 10 }, ctx);

    expect(check).toEqual({ name: 'HTTP probe', ok: false, detail: `GET ${url}: connection refused (2 attempts)` });
  });

  it('throws the abort reason when the job is cancelled during a request', async () => {
    const up = await upstream(() => 'hang');
    const controller = new AbortController();
    const { ctx } = context(controller.signal);
    const cancelled = new Error('job cancelled');

    const outcome = expect(httpProbe({ url: up.url, timeoutMs: 5_000 }, ctx)).rejects.toBe(cancelled);
    await waitUntil('the request to arrive', () => up.hits === 1);
    controller.abort(cancelled);
    await outcome;
    expect(up.hits).toBe(1);
  });

  it('throws the abort reason when the job is cancelled between attempts', async () => {
    const up = await upstream(() => ({ status: 503 }));
    const controller = new AbortController();
    const cancelled = new Error('job cancelled');
    const ctx = { signal: controller.signal, report: () => controller.abort(cancelled) };

    await expect(httpProbe({ url: up.url, intervalMs: 5_000 }, ctx)).rejects.toBe(cancelled);
    expect(up.hits).toBe(1);
  });
});
