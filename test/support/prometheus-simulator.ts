/**
 * An in-process simulator of Prometheus's instant query endpoint, `/api/v1/query`, answering in the
 * shapes of prometheus.io/docs/prometheus/latest/querying/api and web/api/v1/api.go:
 *
 * - success: 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[<unix s>,"<float>"]}]}}`;
 *   sample values are strings, NaN and infinities spelled "NaN", "+Inf", "-Inf" as Prometheus does;
 *   an aggregation without `by` (e.g. `sum(rate(a[1m])) / sum(rate(b[1m]))`) is one series with `metric: {}`;
 * - scalar: `"result":[<unix s>,"<float>"]`;
 * - errors: `{"status":"error","errorType":…,"error":…}` with api.go's status codes
 *   (bad_data 400, execution 422, canceled/timeout 503, internal 500, not_found 404);
 * - GET with a query string and POST with a form body are both accepted, like the real endpoint.
 *
 * The simulator does not evaluate PromQL: a test says what each successive query returns.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type SimErrorType = 'bad_data' | 'execution' | 'canceled' | 'timeout' | 'internal' | 'not_found';

/** One series of an instant vector. */
interface SimSeries {
  labels: Record<string, string>;
  value: number | 'NaN';
}

/**
 * What one query returns:
 * - a number: one series with no labels (what `sum(…) / sum(…)` gives), 'NaN' the same with value NaN (0/0);
 * - 'empty': a vector with no series; 'error': an execution error (422), like a query that cannot be evaluated;
 * - several series; a scalar; or a Prometheus error of a given type.
 */
export type SimAnswer =
  | number
  | 'NaN'
  | 'empty'
  | 'error'
  | SimSeries[]
  | { scalar: number | 'NaN' }
  | { errorType: SimErrorType; error: string };

const STATUS_OF: Record<SimErrorType, number> = {
  bad_data: 400,
  execution: 422,
  canceled: 503,
  timeout: 503,
  internal: 500,
  not_found: 404,
};

const PROMETHEUS_ERROR_STATUS: Partial<Record<number, SimErrorType>> = {
  400: 'bad_data',
  404: 'not_found',
  422: 'execution',
  500: 'internal',
  503: 'timeout',
};

export class PrometheusSimulator {
  readonly url: string;
  /** Every query string received, in order, including the ones answered with a fault. */
  readonly queries: string[] = [];

  private source: readonly SimAnswer[] | ((callIndex: number) => SimAnswer) = [0];
  /** Queries answered from the series so far; faults do not consume a value. */
  private answered = 0;
  private faults: Array<{ status: number; count: number }> = [];
  private hangs = 0;
  private readonly hanging = new Set<http.ServerResponse>();

  private constructor(private readonly server: http.Server) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(): Promise<PrometheusSimulator> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const sim = new PrometheusSimulator(server);
    server.on('request', (req, res) => sim.handle(req, res));
    return sim;
  }

  /**
   * What successive queries return. With an array, call i gets values[i] and the last value sticks once
   * the array runs out (a rate that settles); with a function, call i gets fn(i). Calls answered with a
   * fault (failNext, hangNext) do not count.
   */
  setSeries(values: readonly SimAnswer[] | ((callIndex: number) => SimAnswer)): void {
    if (Array.isArray(values) && values.length === 0) throw new Error('simulator: setSeries needs at least one value');
    this.source = values;
    this.answered = 0;
  }

  /**
   * The next `count` queries get HTTP `status`. Statuses Prometheus itself uses come with its JSON error
   * body; anything else comes as plain text, like a proxy or load balancer in front of it would send.
   */
  failNext(status: number, count = 1): void {
    this.faults.push({ status, count });
  }

  /** The next `count` queries get no answer at all, until the client gives up or the simulator closes. */
  hangNext(count = 1): void {
    this.hangs += count;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- request handling ---------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname !== '/api/v1/query') {
      plain(res, 404, '404 page not found');
      return;
    }
    if (method !== 'GET' && method !== 'POST') {
      plain(res, 405, 'Method Not Allowed');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form =
        method === 'POST' ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')) : new URLSearchParams();
      const query = url.searchParams.get('query') ?? form.get('query');
      this.answer(res, query);
    });
  }

  private answer(res: http.ServerResponse, query: string | null): void {
    if (query === null || query.trim() === '') {
      // api.go parses the expression before anything else; an empty one is a parse error.
      this.queries.push(query ?? '');
      error(res, 'bad_data', 'invalid parameter "query": 1:1: parse error: no expression found in input');
      return;
    }
    this.queries.push(query);

    if (this.hangs > 0) {
      this.hangs--;
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    const fault = this.faults[0];
    if (fault) {
      fault.count--;
      if (fault.count <= 0) this.faults.shift();
      const errorType = PROMETHEUS_ERROR_STATUS[fault.status];
      if (errorType) error(res, errorType, `simulated ${errorType} error`, fault.status);
      else plain(res, fault.status, `${fault.status} ${http.STATUS_CODES[fault.status] ?? 'Error'}`);
      return;
    }

    const index = this.answered++;
    const source = this.source;
    const value =
      typeof source === 'function' ? source(index) : (source[Math.min(index, source.length - 1)] as SimAnswer);
    respond(res, value);
  }
}

function respond(res: http.ServerResponse, value: SimAnswer): void {
  const now = Date.now() / 1000;
  if (value === 'error') {
    error(res, 'execution', 'found duplicate series for the match group on the left hand-side of the operation');
    return;
  }
  if (value === 'empty') {
    json(res, 200, { status: 'success', data: { resultType: 'vector', result: [] } });
    return;
  }
  if (typeof value === 'number' || value === 'NaN') {
    json(res, 200, {
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: {}, value: [now, sampleText(value)] }] },
    });
    return;
  }
  if (Array.isArray(value)) {
    const result = value.map((s) => ({ metric: s.labels, value: [now, sampleText(s.value)] }));
    json(res, 200, { status: 'success', data: { resultType: 'vector', result } });
    return;
  }
  if ('scalar' in value) {
    json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [now, sampleText(value.scalar)] } });
    return;
  }
  error(res, value.errorType, value.error);
}

/** Prometheus writes sample values as strings: "0.004", "NaN", "+Inf". */
function sampleText(value: number | 'NaN'): string {
  if (value === 'NaN' || Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function error(
  res: http.ServerResponse,
  errorType: SimErrorType,
  message: string,
  status = STATUS_OF[errorType],
): void {
  json(res, status, { status: 'error', errorType, error: message });
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) + 1 });
  res.end(`${text}\n`);
}
