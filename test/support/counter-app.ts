/**
 * A tiny service for the real Prometheus to scrape: `GET /metrics` exposes `http_requests_total{code}` in the
 * text exposition format, as an instrumented web server would. The test decides its traffic: each scrape first
 * counts `requests` more requests, `errors` of them answered 500 and the rest 200, so the 5xx ratio between any
 * two scrapes is exactly what the test set, with no timer sending requests in the background.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Traffic {
  /** Requests counted per scrape. */
  requests: number;
  /** How many of them were 5xx. */
  errors: number;
}

export class CounterApp {
  private traffic: Traffic = { requests: 0, errors: 0 };
  private ok = 0;
  private failed = 0;
  /** How many times Prometheus has scraped it. */
  scrapes = 0;

  private constructor(private readonly server: http.Server) {}

  static async start(traffic: Traffic): Promise<CounterApp> {
    let app: CounterApp | undefined;
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics' || !app) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(app.scrape());
    });
    app = new CounterApp(server);
    app.setTraffic(traffic);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return app;
  }

  /** `127.0.0.1:PORT`, as a scrape target. */
  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  setTraffic(traffic: Traffic): void {
    if (traffic.errors > traffic.requests) throw new Error('more errors than requests');
    this.traffic = traffic;
  }

  private scrape(): string {
    this.scrapes++;
    this.ok += this.traffic.requests - this.traffic.errors;
    this.failed += this.traffic.errors;
    return [
      '# HELP http_requests_total Requests served, by status code.',
      '# TYPE http_requests_total counter',
      `http_requests_total{code="200"} ${this.ok}`,
      `http_requests_total{code="500"} ${this.failed}`,
      '',
    ].join('\n');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
