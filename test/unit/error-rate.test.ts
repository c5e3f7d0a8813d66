import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepReport } from '../../src/core/types.js';
import { type ErrorRateSpec, errorRateCheck, formatRate } from '../../src/verify/error-rate.js';
import { PrometheusSimulator } from '../support/prometheus-simulator.js';
import { waitUntil } from '../support/wait.js';

const QUERY =
  'sum(rate(http_requests_total{job="api",code=~"5.."}[1m])) / sum(rate(http_requests_total{job="api"}[1m]))';

let prom: PrometheusSimulator;

beforeEach(async () => {
  prom = await PrometheusSimulator.start();
});

afterEach(async () => {
  await prom.close();
});

/**
 * The runbook's step 4 (below 0.1 % within 2 minutes, a query every 5 s) on a fake clock: sleeping
 * moves the clock, real HTTP to the simulator takes no fake time, so 25 queries run in milliseconds.
 */
function run(spec: Partial<ErrorRateSpec> = {}, signal = new AbortController().signal) {
  let t = 0;
  const steps: StepReport[] = [];
  const thread = () => steps.map((s) => `${s.status}: ${s.text}`);
  const check = errorRateCheck(
    { url: prom.url, query: QUERY, below: 0.001, withinMs: 120_000, intervalMs: 5_000, ...spec },
    {
      signal,
      report: (step) => steps.push(step),
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    },
  );
  return { check, thread };
}

async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('errorRateCheck', () => {
  it('passes as soon as the rate falls below the target, and says when', async () => {
    prom.setSeries([0.008, 0.008, 0.0079, 0.0081, 0.008, 0.008, 0.008, 0.0004]);
    const { check, thread } = run();

    expect(await check).toEqual({ name: 'Error rate', ok: true, detail: '5xx rate 0.04 % < 0.1 % after 35 s' });
    expect(prom.queries).toHaveLength(8);
    expect(prom.queries.every((q) => q === QUERY)).toBe(true);
    // A steady 0.8 % is said once, not every 5 s.
    expect(thread()).toEqual(['progress: 5xx rate 0.8 % (target < 0.1 %), 0 s of 2 min']);
  });

  it('reports a falling rate only when the figure moves by half or more', async () => {
    prom.setSeries([0.02, 0.017, 0.009, 0.0085, 0.004, 0.0015, 0.0009]);
    const { check, thread } = run();

    expect((await check).detail).toBe('5xx rate 0.09 % < 0.1 % after 30 s');
    expect(thread()).toEqual([
      'progress: 5xx rate 2 % (target < 0.1 %), 0 s of 2 min',
      'progress: 5xx rate 0.9 % (target < 0.1 %), 10 s of 2 min',
      'progress: 5xx rate 0.4 % (target < 0.1 %), 20 s of 2 min',
      'progress: 5xx rate 0.15 % (target < 0.1 %), 25 s of 2 min',
    ]);
  });

  it('fails after the window with the last figure when the rate never falls', async () => {
    prom.setSeries((i) => (i % 2 === 0 ? 0.008 : 0.0075));
    const { check, thread } = run();

    // A query at 0, 5, …, 120 s: the last one, exactly at the deadline, is the figure reported.
    expect(await check).toEqual({
      name: 'Error rate',
      ok: false,
      detail: '5xx rate still 0.8 % after 2 min (target < 0.1 %)',
    });
    expect(prom.queries).toHaveLength(25);
    expect(thread()).toEqual(['progress: 5xx rate 0.8 % (target < 0.1 %), 0 s of 2 min']);
  });

  it('counts exactly the target as not below it', async () => {
    prom.setSeries([0.001]);
    const { check } = run({ withinMs: 10_000 });

    expect(await check).toMatchObject({ ok: false, detail: '5xx rate still 0.1 % after 10 s (target < 0.1 %)' });
  });

  it('does not count no traffic (NaN, 0/0) as a pass', async () => {
    prom.setSeries(['NaN']);
    const { check, thread } = run();

    expect(await check).toEqual({
      name: 'Error rate',
      ok: false,
      detail: 'no traffic to measure after 2 min (5xx rate 0/0), so it could not be confirmed below 0.1 %',
    });
    expect(prom.queries).toHaveLength(25);
    expect(thread()).toEqual(['progress: No traffic to measure yet (5xx rate 0/0), 0 s of 2 min']);
  });

  it('passes once traffic comes back and the rate is low', async () => {
    prom.setSeries(['NaN', 'NaN', 0.0002]);
    const { check, thread } = run();

    expect(await check).toMatchObject({ ok: true, detail: '5xx rate 0.02 % < 0.1 % after 10 s' });
    expect(thread()).toEqual(['progress: No traffic to measure yet (5xx rate 0/0), 0 s of 2 min']);
  });

  it('names the last figure seen when traffic stops before the deadline', async () => {
    prom.setSeries((i) => (i < 4 ? 0.005 : 'NaN'));
    const { check, thread } = run({ withinMs: 30_000 });

    expect((await check).detail).toBe(
      'no traffic to measure after 30 s (5xx rate 0/0), so it could not be confirmed below 0.1 %; last figure 0.5 % at 15 s',
    );
    expect(thread()).toEqual([
      'progress: 5xx rate 0.5 % (target < 0.1 %), 0 s of 30 s',
      'progress: No traffic to measure yet (5xx rate 0/0), 20 s of 30 s',
    ]);
  });

  it('does not count an empty result as a pass, and says how to fix the usual cause', async () => {
    prom.setSeries(['empty']);
    const { check, thread } = run({ withinMs: 20_000 });

    const result = await check;
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(
      'the error-rate query returned no series for 20 s, so the 5xx rate could not be confirmed below 0.1 %. If it divides by 5xx series that do not exist yet, add `or vector(0)` to the numerator',
    );
    expect(prom.queries).toHaveLength(5);
    expect(thread()).toEqual(['progress: The error-rate query returns no series yet, 0 s of 20 s']);
  });

  it('stops at once when Prometheus rejects the query (bad_data): asking again cannot help', async () => {
    prom.setSeries([{ errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error: unexpected "}"' }]);
    const { check, thread } = run();

    expect(await check).toEqual({
      name: 'Error rate',
      ok: false,
      detail:
        'Prometheus rejected the query: invalid parameter "query": 1:5: parse error: unexpected "}". Fix the error-rate query in rollback.yml; the 5xx rate was not checked',
    });
    expect(prom.queries).toHaveLength(1);
    expect(thread()).toEqual([]);
  });

  it('keeps asking through execution errors and names the error at the deadline', async () => {
    prom.setSeries(['error']);
    const { check, thread } = run({ withinMs: 10_000 });

    expect(await check).toEqual({
      name: 'Error rate',
      ok: false,
      detail:
        'could not read the 5xx rate within 10 s: Prometheus could not run the query (HTTP 422, execution: found duplicate series for the match group on the left hand-side of the operation) (3 queries)',
    });
    expect(prom.queries).toHaveLength(3);
    expect(thread()).toHaveLength(1);
  });

  it('rides out a Prometheus 500 and passes on the next answer', async () => {
    prom.failNext(500, 1);
    prom.setSeries([0.0005]);
    const { check, thread } = run();

    expect(await check).toEqual({ name: 'Error rate', ok: true, detail: '5xx rate 0.05 % < 0.1 % after 5 s' });
    expect(prom.queries).toHaveLength(2);
    expect(thread()).toEqual([
      'progress: Cannot read the 5xx rate: Prometheus could not run the query (HTTP 500, internal: simulated internal error), 0 s of 2 min',
    ]);
  });

  it('reads a proxy error page in front of Prometheus as its HTTP status', async () => {
    prom.failNext(502, 2);
    prom.setSeries([0.0005]);
    const { check, thread } = run();

    expect((await check).detail).toBe('5xx rate 0.05 % < 0.1 % after 10 s');
    // The same problem twice is one line.
    expect(thread()).toEqual(['progress: Cannot read the 5xx rate: Prometheus answered HTTP 502, 0 s of 2 min']);
  });

  it('keeps the last figure when Prometheus fails after answering', async () => {
    // Three answers, then Prometheus goes down for the rest of the window.
    prom.setSeries((i) => {
      if (i === 2) prom.failNext(503, 10);
      return 0.006;
    });
    const { check } = run({ withinMs: 15_000 });

    expect((await check).detail).toBe(
      'could not read the 5xx rate within 15 s: Prometheus could not run the query (HTTP 503, timeout: simulated timeout error) (4 queries); last figure 0.6 % at 10 s',
    );
  });

  it('fails with the reason when Prometheus is unreachable for the whole window', async () => {
    const { check, thread } = run({ url: await closedPortUrl(), withinMs: 20_000 });

    expect(await check).toEqual({
      name: 'Error rate',
      ok: false,
      detail: 'could not read the 5xx rate within 20 s: Prometheus unreachable: connection refused (5 queries)',
    });
    expect(thread()).toEqual([
      'progress: Cannot read the 5xx rate: Prometheus unreachable: connection refused, 0 s of 20 s',
    ]);
  });

  it('gives up on a query Prometheus does not answer within requestTimeoutMs, then asks again', async () => {
    prom.hangNext(1);
    prom.setSeries([0.0003]);
    // The timeout is real time: long enough that the answered query is never cut short on a loaded machine
    // (100 ms was, in a run beside three CPU burners).
    const { check, thread } = run({ requestTimeoutMs: 1_500 });

    expect((await check).detail).toBe('5xx rate 0.03 % < 0.1 % after 5 s');
    expect(thread()).toEqual([
      'progress: Cannot read the 5xx rate: Prometheus did not answer within 1.5 s, 0 s of 2 min',
    ]);
  });

  it('judges several series by the highest, not the average, and names it', async () => {
    // Averaged, 0.01 %, 0.01 % and 0.25 % pass (0.09 %); one route at 0.25 % is not a healthy service.
    prom.setSeries([
      [
        { labels: { route: '/login' }, value: 0.0001 },
        { labels: { route: '/search' }, value: 0.0001 },
        { labels: { route: '/checkout' }, value: 0.0025 },
      ],
      [
        { labels: { route: '/login' }, value: 0.0001 },
        { labels: { route: '/search' }, value: 0.0004 },
        { labels: { route: '/checkout' }, value: 'NaN' },
      ],
    ]);
    const { check, thread } = run();

    expect(await check).toEqual({
      name: 'Error rate',
      ok: true,
      detail: '5xx rate 0.04 % < 0.1 % after 5 s (highest of 3 series, 1 without traffic: {route="/search"})',
    });
    expect(thread()).toEqual([
      'progress: 5xx rate 0.25 % (target < 0.1 %; highest of 3 series: {route="/checkout"}), 0 s of 2 min',
    ]);
  });

  it('reads a scalar result', async () => {
    prom.setSeries([{ scalar: 0.0002 }]);
    const { check } = run();

    expect(await check).toMatchObject({ ok: true, detail: '5xx rate 0.02 % < 0.1 % after 0 s' });
  });

  it('accepts a base URL with a trailing slash', async () => {
    prom.setSeries([0]);
    const { check } = run({ url: `${prom.url}/` });

    expect(await check).toMatchObject({ ok: true, detail: '5xx rate 0 % < 0.1 % after 0 s' });
    expect(prom.queries).toEqual([QUERY]);
  });

  it('throws the abort reason when the job is cancelled while waiting between queries', async () => {
    prom.setSeries([0.008]);
    const controller = new AbortController();
    const cancelled = new Error('job cancelled');
    // The real sleep, so the abort has something to interrupt: the wait starts as the report returns, so a
    // microtask queued in the report runs inside it.
    const check = errorRateCheck(
      { url: prom.url, query: QUERY, below: 0.001, withinMs: 120_000, intervalMs: 10_000 },
      { signal: controller.signal, report: () => queueMicrotask(() => controller.abort(cancelled)) },
    );

    await expect(check).rejects.toBe(cancelled);
    expect(prom.queries).toHaveLength(1);
  });

  it('throws the abort reason when the job is cancelled during a query', async () => {
    prom.hangNext(1);
    const controller = new AbortController();
    const cancelled = new Error('job cancelled');
    const { check } = run({}, controller.signal);
    const outcome = expect(check).rejects.toBe(cancelled);
    await waitUntil('the query to reach Prometheus', () => prom.queries.length === 1);
    controller.abort(cancelled);

    await outcome;
  });
});

describe('formatRate', () => {
  it('writes ratios as percentages people read at a glance', () => {
    expect(formatRate(0.001)).toBe('0.1 %');
    expect(formatRate(0.0004)).toBe('0.04 %');
    expect(formatRate(0.00043)).toBe('0.043 %');
    expect(formatRate(0.0123)).toBe('1.2 %');
    expect(formatRate(0.5)).toBe('50 %');
    expect(formatRate(1)).toBe('100 %');
    expect(formatRate(0)).toBe('0 %');
    expect(formatRate(1e-9)).toBe('< 0.0001 %');
  });
});

describe('PrometheusSimulator', () => {
  it('answers on the wire like /api/v1/query: string samples, NaN spelled out, error envelopes with their status', async () => {
    prom.setSeries([0.004, 'NaN', 'empty', { errorType: 'bad_data', error: 'parse error' }]);
    const get = async () => {
      const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('up')}`);
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        body: (await res.json()) as Record<string, unknown>,
      };
    };

    const one = await get();
    expect(one.status).toBe(200);
    expect(one.type).toBe('application/json');
    expect(one.body).toEqual({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: {}, value: [expect.any(Number), '0.004'] }] },
    });
    expect((await get()).body).toMatchObject({ data: { result: [{ value: [expect.any(Number), 'NaN'] }] } });
    expect((await get()).body).toEqual({ status: 'success', data: { resultType: 'vector', result: [] } });
    expect(await get()).toMatchObject({
      status: 400,
      body: { status: 'error', errorType: 'bad_data', error: 'parse error' },
    });
  });

  it('takes the query from a POST form too, and calls an empty query a parse error', async () => {
    const post = await fetch(`${prom.url}/api/v1/query`, {
      method: 'POST',
      body: new URLSearchParams({ query: 'up' }),
    });
    expect(post.status).toBe(200);
    const empty = await fetch(`${prom.url}/api/v1/query`);
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(prom.queries).toEqual(['up', '']);
  });
});
