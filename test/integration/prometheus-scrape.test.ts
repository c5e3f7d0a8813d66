import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';
import { PrometheusServer } from '../support/prometheus-server.js';
import { waitUntil } from '../support/wait.js';

const METRICS_TOKEN = 'scrape-test-token-0123456789';

let h: Harness | undefined;
let prometheus: PrometheusServer | undefined;
afterEach(async () => {
  await prometheus?.stop();
  prometheus = undefined;
  await h?.close();
  h = undefined;
});

describe('the real Prometheus scraping the bot', () => {
  it('scrapes /metrics with the bearer token, and sees a rollback counted and its target frozen', async () => {
    h = await startHarness({ metricsToken: METRICS_TOKEN });
    const address = `127.0.0.1:${h.running.port}`;
    prometheus = await PrometheusServer.start([
      { job: 'rapid-rollback', address, bearerToken: METRICS_TOKEN },
      // The same bot without the token: Prometheus must see the refusal, not data.
      { job: 'rapid-rollback-no-token', address },
    ]);
    const server = prometheus;

    const up = await waitUntil(
      'the first scrapes',
      async () => {
        const samples = await server.query('up');
        return samples.length === 2 && samples;
      },
      20_000,
    );
    const upOf = (job: string) => up.find((s) => s.metric.job === job)?.value;
    expect(upOf('rapid-rollback')).toBe(1);
    expect(upOf('rapid-rollback-no-token')).toBe(0);
    const refused = (await server.targets()).find((t) => t.job === 'rapid-rollback-no-token');
    expect(refused?.lastError).toContain('401');

    // Nothing rolled back yet: the counter has no series for cdn.
    expect(await server.query('rollbacks_total{target="cdn"}')).toEqual([]);

    await h.rollBack('cdn elevated 5xx');

    const counted = await waitUntil(
      'rollbacks_total after the rollback',
      async () => {
        const samples = await server.query('rollbacks_total{job="rapid-rollback",target="cdn"}');
        return samples.length > 0 && samples;
      },
      20_000,
    );
    expect(counted).toEqual([
      {
        metric: expect.objectContaining({ kind: 'fastly', outcome: 'succeeded', target: 'cdn' }),
        value: 1,
      },
    ]);
    // PromQL over the bot's series: the freeze, and the approve → verified histogram.
    const frozen = await waitUntil('target_frozen', async () => {
      const samples = await server.query('target_frozen{job="rapid-rollback",target="cdn"} == 1');
      return samples.length === 1 && samples;
    });
    expect(frozen[0]?.value).toBe(1);
    const verified = await server.query(
      'sum by (kind) (rollback_approve_to_verified_seconds_count{job="rapid-rollback"})',
    );
    expect(verified).toEqual([{ metric: { kind: 'fastly' }, value: 1 }]);
  });
});
