/**
 * The real Prometheus (Debian's `prometheus` package; `.ci/run` installs it when absent), started by a test on a
 * free loopback port with a configuration and a data directory of its own, and stopped after. Not the
 * project's simulator (prometheus-simulator.ts), which injects faults: this one runs real scrapes and PromQL.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type LoopbackDaemon, startLoopbackDaemon } from './loopback-daemon.js';

const BINARIES = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'];

export interface ScrapeTarget {
  job: string;
  /** `127.0.0.1:PORT` */
  address: string;
  /** Sent as `Authorization: Bearer <token>` (Prometheus's `authorization:` block). */
  bearerToken?: string | undefined;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export class PrometheusServer {
  private constructor(private readonly daemon: LoopbackDaemon) {}

  get url(): string {
    return this.daemon.url;
  }

  /** Starts Prometheus scraping `targets` every `scrapeInterval` and resolves once it says it is ready. */
  static async start(targets: ScrapeTarget[], options: { scrapeInterval?: string } = {}): Promise<PrometheusServer> {
    const binary = BINARIES.find((file) => existsSync(file));
    if (!binary)
      throw new Error('prometheus is not installed: `apt-get install prometheus` (.ci/run installs it when absent)');
    const interval = options.scrapeInterval ?? '1s';
    const config = {
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: targets.map((t) => ({
        job_name: t.job,
        scrape_interval: interval,
        scrape_timeout: interval,
        static_configs: [{ targets: [t.address] }],
        ...(t.bearerToken ? { authorization: { type: 'Bearer', credentials: t.bearerToken } } : {}),
      })),
    };
    const daemon = await startLoopbackDaemon({
      name: 'prometheus',
      binary,
      config,
      args: ({ dir, configFile, port }) => [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
    });
    return new PrometheusServer(daemon);
  }

  /** An instant query through the HTTP API (`/api/v1/query`), as Grafana or an alert rule would run it. */
  async query(promql: string): Promise<PromSample[]> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`prometheus refused ${promql}: ${body.error ?? response.status}`);
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** What Prometheus says of its scrape targets (`/api/v1/targets`): health and last error, by job. */
  async targets(): Promise<Array<{ job: string; health: string; lastError: string }>> {
    const response = await fetch(`${this.url}/api/v1/targets`);
    const body = (await response.json()) as {
      data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> };
    };
    return body.data.activeTargets.map((t) => ({ job: t.labels.job, health: t.health, lastError: t.lastError }));
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }
}
