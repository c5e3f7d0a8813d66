import { z } from 'zod';
import { sleep as abortableSleep, abortReason } from '../core/abortable.js';
import { formatDuration } from '../core/duration.js';
import type { StepReport, VerifyCheck } from '../core/types.js';
import { formatWait, networkReason } from './http-probe.js';

export interface ErrorRateSpec {
  /** Prometheus base URL, with any path prefix: "https://prometheus.example.com" or ".../prometheus". */
  url: string;
  /** PromQL giving the error ratio (0.004 = 0.4 %), e.g. `sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))`. */
  query: string;
  /** The ratio to fall below: 0.001 for the runbook's 0.1 %. */
  below: number;
  /** How long it may take, counted from the start of the check: 120000 for the runbook's 2 minutes. */
  withinMs: number;
  /** Between queries; default 5000. */
  intervalMs?: number;
  /** Per query; default 5000. */
  requestTimeoutMs?: number;
}

export interface ErrorRateContext {
  signal: AbortSignal;
  report?: (step: StepReport) => void;
  /** Milliseconds on a monotonic clock; injectable so tests need not wait two minutes. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const NAME = 'Error rate';

/**
 * What one query told us.
 * - `rate`: a figure. With several series it is the highest, because one broken route or pod hidden
 *   behind a healthy average is exactly what a rollback check must not miss; `idle` series (NaN) are left out.
 * - `no-traffic`: NaN (0/0, no requests). Not a pass: a service nobody can reach also has "no errors",
 *   so we keep asking; the HTTP probe is the check that says whether it answers at all.
 * - `no-data`: an empty vector. Not a pass either: the query may be wrong, the service not scraped, or
 *   the 5xx series may not exist yet (then `or vector(0)` on the numerator is the fix); we cannot tell which.
 * - `unreadable`: Prometheus unreachable, slow, or failing; may heal, so we keep asking.
 * - `rejected`: the query itself is wrong (bad_data, a range vector); asking again cannot help, so we stop.
 */
type Reading =
  | { kind: 'rate'; value: number; series: number; idle: number; worst: Record<string, string> }
  | { kind: 'no-traffic' }
  | { kind: 'no-data' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'rejected'; reason: string };

// prometheus.io/docs/prometheus/latest/querying/api: sample values are strings ("0.004", "NaN", "+Inf").
const sample = z.tuple([z.number(), z.string()]);
const queryResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({
        resultType: z.literal('vector'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sample })),
      }),
      z.object({ resultType: z.literal('scalar'), result: sample }),
      z.object({ resultType: z.enum(['matrix', 'string']) }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

/**
 * Polls Prometheus until the error rate is below `spec.below` (ok) or `withinMs` has passed (not ok,
 * with the last figure). Prometheus trouble is retried until the deadline; a query Prometheus rejects
 * ends the check at once. Throws only when `ctx.signal` aborts. The deadline is checked between queries,
 * so the check may overrun it by one request timeout at most.
 */
export async function errorRateCheck(spec: ErrorRateSpec, ctx: ErrorRateContext): Promise<VerifyCheck> {
  const now = ctx.now ?? (() => performance.now());
  const wait = ctx.sleep ?? abortableSleep;
  const intervalMs = spec.intervalMs ?? 5_000;
  const requestTimeoutMs = spec.requestTimeoutMs ?? 5_000;
  const target = formatRate(spec.below);
  const window = formatElapsed(spec.withinMs);
  const started = now();

  let reported: Reading | undefined;
  let lastRate: { reading: Reading & { kind: 'rate' }; at: number } | undefined;
  let queries = 0;
  for (;;) {
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    const reading = await readOnce(spec, requestTimeoutMs, ctx.signal);
    queries++;
    const elapsed = now() - started;

    if (reading.kind === 'rate' && reading.value < spec.below) {
      const note = seriesNote(reading);
      return {
        name: NAME,
        ok: true,
        detail: `5xx rate ${formatRate(reading.value)} < ${target} after ${formatElapsed(elapsed)}${note ? ` (${note})` : ''}`,
      };
    }
    if (reading.kind === 'rejected') {
      return {
        name: NAME,
        ok: false,
        detail: `${reading.reason}. Fix the error-rate query in rollback.yml; the 5xx rate was not checked`,
      };
    }
    if (reading.kind === 'rate') lastRate = { reading, at: elapsed };

    if (elapsed >= spec.withinMs) {
      return { name: NAME, ok: false, detail: deadlineText(reading, { target, window, queries, lastRate }) };
    }
    if (ctx.report && worthReporting(reported, reading)) {
      ctx.report({
        status: 'progress',
        text: `${progressText(reading, target)}, ${formatElapsed(elapsed)} of ${window}`,
      });
      reported = reading;
    }
    await wait(Math.min(intervalMs, spec.withinMs - elapsed), ctx.signal);
  }
}

async function readOnce(spec: ErrorRateSpec, timeoutMs: number, signal: AbortSignal): Promise<Reading> {
  const url = `${spec.url.replace(/\/+$/, '')}/api/v1/query?${new URLSearchParams({ query: spec.query }).toString()}`;
  const timeout = AbortSignal.timeout(timeoutMs);
  let status: number;
  let text: string;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.any([signal, timeout]),
      headers: { accept: 'application/json' },
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    if (signal.aborted) throw abortReason(signal);
    if (timeout.aborted)
      return { kind: 'unreadable', reason: `Prometheus did not answer within ${formatWait(timeoutMs)}` };
    return { kind: 'unreadable', reason: `Prometheus unreachable: ${networkReason(error)}` };
  }

  const parsed = queryResponse.safeParse(parseJson(text));
  if (!parsed.success) {
    // A proxy's error page, a login page, a Prometheus we do not understand: say what came back.
    return {
      kind: 'unreadable',
      reason:
        status >= 400
          ? `Prometheus answered HTTP ${status}`
          : `Prometheus answered HTTP ${status} with something that is not a query result`,
    };
  }
  const body = parsed.data;
  if (body.status === 'error') {
    if (body.errorType === 'bad_data')
      return { kind: 'rejected', reason: `Prometheus rejected the query: ${body.error}` };
    return {
      kind: 'unreadable',
      reason: `Prometheus could not run the query (HTTP ${status}, ${body.errorType}: ${body.error})`,
    };
  }
  const data = body.data;
  if (data.resultType === 'scalar') return fromSeries([{ metric: {}, value: data.result }]);
  if (data.resultType === 'vector') return fromSeries(data.result);
  const got = data.resultType === 'matrix' ? 'a range vector' : 'a string';
  return {
    kind: 'rejected',
    reason: `The error-rate query returns ${got}; it must return one number (an instant vector or a scalar)`,
  };
}

function fromSeries(result: Array<{ metric: Record<string, string>; value: [number, string] }>): Reading {
  if (result.length === 0) return { kind: 'no-data' };
  let worst: { value: number; metric: Record<string, string> } | undefined;
  let idle = 0;
  for (const series of result) {
    const value = parseSample(series.value[1]);
    if (Number.isNaN(value)) idle++;
    else if (worst === undefined || value > worst.value) worst = { value, metric: series.metric };
  }
  if (worst === undefined) return { kind: 'no-traffic' };
  return { kind: 'rate', value: worst.value, series: result.length, idle, worst: worst.metric };
}

/** Prometheus spells infinities "+Inf" and "-Inf", which Number() does not read. */
function parseSample(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A Slack thread gets a new line only when a person would learn something: the first reading, a
 * different kind of reading, a figure that moved by half or more, a different problem. The clock
 * ticking is not news.
 */
function worthReporting(previous: Reading | undefined, next: Reading): boolean {
  if (previous === undefined || previous.kind !== next.kind) return true;
  if (previous.kind === 'rate' && next.kind === 'rate') {
    if (previous.value === next.value) return false;
    if (previous.value === 0 || next.value === 0) return true;
    return Math.abs(Math.log(next.value / previous.value)) >= Math.log(1.5);
  }
  if (previous.kind === 'unreadable' && next.kind === 'unreadable') return previous.reason !== next.reason;
  return false;
}

function progressText(reading: Reading, target: string): string {
  switch (reading.kind) {
    case 'rate': {
      const note = seriesNote(reading);
      return `5xx rate ${formatRate(reading.value)} (target < ${target}${note ? `; ${note}` : ''})`;
    }
    case 'no-traffic':
      return 'No traffic to measure yet (5xx rate 0/0)';
    case 'no-data':
      return 'The error-rate query returns no series yet';
    case 'unreadable':
    case 'rejected':
      return `Cannot read the 5xx rate: ${reading.reason}`;
  }
}

function deadlineText(
  reading: Reading,
  facts: {
    target: string;
    window: string;
    queries: number;
    lastRate: { reading: Reading & { kind: 'rate' }; at: number } | undefined;
  },
): string {
  const { target, window, queries, lastRate } = facts;
  const earlier =
    lastRate && reading.kind !== 'rate'
      ? `; last figure ${formatRate(lastRate.reading.value)} at ${formatElapsed(lastRate.at)}`
      : '';
  switch (reading.kind) {
    case 'rate': {
      const note = seriesNote(reading);
      return `5xx rate still ${formatRate(reading.value)} after ${window} (target < ${target}${note ? `; ${note}` : ''})`;
    }
    case 'no-traffic':
      return `no traffic to measure after ${window} (5xx rate 0/0), so it could not be confirmed below ${target}${earlier}`;
    case 'no-data':
      return `the error-rate query returned no series for ${window}, so the 5xx rate could not be confirmed below ${target}${earlier}. If it divides by 5xx series that do not exist yet, add \`or vector(0)\` to the numerator`;
    case 'unreadable':
    case 'rejected':
      return `could not read the 5xx rate within ${window}: ${reading.reason} (${queries} ${queries === 1 ? 'query' : 'queries'})${earlier}`;
  }
}

/** "highest of 3 series: {pod="api-2"}": which series the figure comes from, when there is a choice. */
function seriesNote(reading: Reading & { kind: 'rate' }): string {
  if (reading.series <= 1) return '';
  const labels = Object.entries(reading.worst)
    .filter(([name]) => name !== '__name__')
    .map(([name, value]) => `${name}="${value}"`)
    .join(', ');
  const idle = reading.idle > 0 ? `, ${reading.idle} without traffic` : '';
  return `highest of ${reading.series} series${idle}${labels ? `: {${labels}}` : ''}`;
}

/** A ratio as a percentage with two significant figures: 0.001 → "0.1 %", 0.0043 → "0.43 %", 0.123 → "12 %". */
export function formatRate(ratio: number): string {
  if (Number.isNaN(ratio)) return 'NaN';
  if (!Number.isFinite(ratio)) return ratio > 0 ? '+Inf' : '-Inf';
  const percent = ratio * 100;
  if (percent === 0) return '0 %';
  if (Math.abs(percent) < 0.0001) return '< 0.0001 %';
  return `${Number(percent.toPrecision(2))} %`;
}

/** "0 s", "35 s", "2 min", "1 min 35 s": whole seconds, since readings are seconds apart. */
function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1_000));
  return seconds < 60 ? `${seconds} s` : formatDuration(seconds * 1_000);
}
