import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainText } from '../../src/core/text.js';
import type { StepReport } from '../../src/core/types.js';
import { type ErrorRateSpec, errorRateCheck } from '../../src/verify/error-rate.js';
import { CounterApp, type Traffic } from '../support/counter-app.js';
import { PrometheusServer } from '../support/prometheus-server.js';
import { waitUntil } from '../support/wait.js';

// The shape rollback.yml's example gives, over a window of five 1 s scrapes.
const QUERY =
  'sum(rate(http_requests_total{job="checkout",code=~"5.."}[5s])) / sum(rate(http_requests_total{job="checkout"}[5s]))';
const HIGH: Traffic = { requests: 100, errors: 20 };
const LOW: Traffic = { requests: 1000, errors: 1 };

let app: CounterApp;
let prometheus: PrometheusServer;

beforeAll(async () => {
  app = await CounterApp.start(HIGH);
  prometheus = await PrometheusServer.start([{ job: 'checkout', address: app.address }]);
}, 40_000);

afterAll(async () => {
  await prometheus?.stop();
  await app?.stop();
});

/** Sets the app's traffic and waits until the real Prometheus computes `ratio` from it over the whole window. */
async function trafficAt(traffic: Traffic, ratio: number): Promise<void> {
  app.setTraffic(traffic);
  await waitUntil(
    `Prometheus to compute ${ratio}`,
    async () => {
      const [sample] = await prometheus.query(QUERY);
      return sample !== undefined && Math.abs(sample.value - ratio) < ratio / 100 && sample;
    },
    20_000,
  );
}

function check(spec: Partial<ErrorRateSpec>, report?: (step: StepReport) => void) {
  return errorRateCheck(
    { url: prometheus.url, query: QUERY, below: 0.01, withinMs: 60_000, intervalMs: 250, ...spec },
    { signal: AbortSignal.timeout(60_000), ...(report ? { report } : {}) },
  );
}

describe('the error-rate check against the real Prometheus', () => {
  it('fails on a high 5xx ratio once `within` has passed, with the figure PromQL computed', async () => {
    await trafficAt(HIGH, 0.2);
    const steps: string[] = [];

    const result = await check({ withinMs: 2_000 }, (step) => steps.push(plainText(step.text)));

    expect(result).toEqual({
      name: 'Error rate',
      ok: false,
      detail: '5xx rate still 20 % after 2 s (target < 1 %)',
    });
    // A steady 20 % is said once in the thread, not at every query.
    expect(steps).toEqual(['5xx rate 20 % (target < 1 %), 0 s of 2 s']);
  });

  it('passes on a low 5xx ratio at the first query', async () => {
    await trafficAt(LOW, 0.001);

    expect(await check({})).toEqual({ name: 'Error rate', ok: true, detail: '5xx rate 0.1 % < 1 % after 0 s' });
  });

  it('keeps asking within `within`: a high ratio that falls while it waits passes', async () => {
    await trafficAt(HIGH, 0.2);
    const steps: string[] = [];
    const scrapesAtStart = app.scrapes;

    const result = await check({ withinMs: 30_000 }, (step) => {
      steps.push(plainText(step.text));
      // The rollback has landed: from the next scrape on, the errors stop.
      app.setTraffic({ requests: 1000, errors: 0 });
    });

    expect(steps[0]).toBe('5xx rate 20 % (target < 1 %), 0 s of 30 s');
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/^5xx rate 0\.\d+ % < 1 % after \d+ s$/);
    // It passed on figures Prometheus scraped after the change, not the first reading.
    expect(app.scrapes).toBeGreaterThan(scrapesAtStart + 1);
  });
});
