/**
 * Shared pieces of `npm run bench`: the bot as a child process (`node dist/main.js [mode]`), bounded
 * waits, statistics, Redis clean-up, signed Slack traffic and the table rows every section returns.
 * Everything talks to 127.0.0.1 only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { FastlySimulator } from '../../test/support/fastly-simulator.js';
import { freePort } from '../../test/support/free-port.js';
import { deleteKeys as deleteKeysIn } from '../../test/support/redis-keys.js';
import { writeRollbackYml as writeConfig } from '../../test/support/rollback-yml.js';
import { blockAction, signRequest, slashCommand } from '../../test/support/slack-payloads.js';
import { type SimCall, type SlackSimulator, textOf } from '../../test/support/slack-simulator.js';

export const SIGNING_SECRET = 'bench-signing-secret';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CHANNELS = { command: 'CCMD', incident: 'CINC' } as const;
export const PEOPLE = { requester: 'UREQ', approver: 'UAPP' } as const;
/** The built bot (`npm run build`); `--main <file>` benches another build (a branch with a fix in it). */
let mainJs = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
export function setMainJs(file: string): void {
  mainJs = file;
}
export function mainJsPath(): string {
  return mainJs;
}

/** One line of the final table. */
export interface Row {
  id: string;
  figure: string;
  /** The per-call latency the simulators added for this row, in words. */
  latency: string;
  /** The figure itself, e.g. "p50 12 ms · p99 31 ms". */
  measured: string;
  /** What it is compared with (a baseline, a by-hand run), or ''. */
  against: string;
  aim: string;
  /** undefined: informational, no aim. */
  ok: boolean | undefined;
  /** Where the time goes, what limits it: printed under the table. */
  notes?: string[];
}

// ------------------------------------------------------------------------------------------------- time

/** Thrown when the whole run goes over its time budget; every wait checks it. */
export class BenchDeadline extends Error {}

let deadline = Number.POSITIVE_INFINITY;
export function setDeadline(at: number): void {
  deadline = at;
}
export function checkDeadline(): void {
  if (Date.now() > deadline) throw new BenchDeadline('the benchmark ran over its time budget (--budget)');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `everyMs` until it returns something, for at most `timeoutMs` (and the run's budget). */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs: number,
  everyMs = 5,
): Promise<T> {
  const end = Math.min(Date.now() + timeoutMs, deadline);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > end) {
      checkDeadline();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(everyMs);
  }
}

/** Runs `work` over `items` with at most `limit` at a time; results in input order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

// ------------------------------------------------------------------------------------------------- stats

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const median = (values: readonly number[]) => percentile(values, 50);
export const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');
export const p50p99 = (values: readonly number[]) =>
  `p50 ${ms(percentile(values, 50))} · p99 ${ms(percentile(values, 99))} (n=${values.length})`;

// ------------------------------------------------------------------------------------------------- ports, files

export { fastlyTarget } from '../../test/support/rollback-yml.js';
export { freePort };

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `rr-bench-${tag}-`));
}

/**
 * `<dir>/rollback.yml`: the bench's channel and approver, requests kept an hour, these target lines, and any
 * other top-level settings (`groups: …`).
 */
export function writeRollbackYml(dir: string, targets: string[], settings: string[] = []): string {
  return writeConfig(dir, {
    incidentChannel: CHANNELS.incident,
    approvers: [PEOPLE.approver],
    settings: ['requestTtl: 1h', ...settings],
    targets,
  });
}

// ------------------------------------------------------------------------------------------------- the bot

export interface BotProcess {
  pid: number;
  mode: 'all' | 'app' | 'worker';
  /** `http://127.0.0.1:PORT/slack/events` for modes that run the app. */
  eventsUrl: string | undefined;
  child: ChildProcess;
  /** Where its stdout and stderr go. */
  logFile: string;
  /** Its last warnings, errors and non-JSON lines, for failure messages. */
  tail(): string[];
  stop(): Promise<void>;
}

/** Node's flags as `npm start` and the image run the bot (package.json's start script), so the figures are theirs. */
const SHIPPED_NODE_FLAGS: string[] =
  (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      scripts: { start: string };
    }
  ).scripts.start.match(/--[a-z-]+=\S+/g) ?? [];

const started = new Set<BotProcess>();
let profileDir: string | undefined;
/** `--cpu-prof <dir>`: every bot process writes a V8 CPU profile there when it stops (open it in Chrome DevTools). */
export function setProfileDir(dir: string | undefined): void {
  profileDir = dir;
}

export interface BotOptions {
  mode: 'all' | 'app' | 'worker';
  /** Its working directory (the run's temp dir): its log file goes there too. */
  cwd: string;
  /** Its rollback.yml (ROLLBACK_CONFIG). */
  config: string;
  /** REDIS_PREFIX: each section's keys apart from the others'. */
  prefix: string;
  /** SLACK_API_URL and SLACK_BOT_TOKEN are the simulator's; the signing secret is SIGNING_SECRET. */
  slack: SlackSimulator;
  /** FASTLY_API_URL and FASTLY_API_TOKEN, for Fastly targets. */
  fastly?: FastlySimulator;
  /** Any other settings, e.g. a driver's (KUBECONFIG, HELM_BIN). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * `node dist/main.js <mode>` as production runs it, on the simulators, waiting for its "rapid-rollback
 * started" log line (and, with the app, for the HTTP receiver to answer). Logs at info, the production
 * default, into a file in its working directory: pino writes stdout synchronously, and a pipe to this
 * (busy) process would make the bot wait for the benchmark to read its logs.
 */
export async function startBot(options: BotOptions): Promise<BotProcess> {
  const nodeArgs = [
    ...SHIPPED_NODE_FLAGS,
    ...(profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${options.mode}-${Date.now()}.cpuprofile`]
      : []),
  ];
  // Workers serve their probes and metrics on PORT too; 0 picks a free port for each.
  const port = options.mode === 'worker' ? 0 : await freePort();
  const logFile = join(options.cwd, `bot-${options.mode}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}.log`);
  const out = openSync(logFile, 'a');
  // Its own working directory: no stray .env or rollback.yml is read, caches stay in the temp dir.
  const child = spawn(process.execPath, [...nodeArgs, mainJs, options.mode], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      LOG_LEVEL: 'info',
      REDIS_URL,
      PORT: String(port),
      SLACK_BOT_TOKEN: options.slack.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: options.slack.apiUrl,
      ROLLBACK_CONFIG: options.config,
      ...(options.fastly ? { FASTLY_API_TOKEN: options.fastly.token, FASTLY_API_URL: options.fastly.url } : {}),
      REDIS_PREFIX: options.prefix,
      ...options.env,
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  /** The warnings and errors it logged (pino levels 40+), and anything not JSON (a crash), last ones. */
  const tail = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && (!line.startsWith('{') || /"level":(4|5|6)0/.test(line)))
      .slice(-20)
      .map((line) => line.slice(0, 400));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const eventsUrl = options.mode === 'worker' ? undefined : `http://127.0.0.1:${port}/slack/events`;
  const bot: BotProcess = {
    pid: child.pid ?? -1,
    mode: options.mode,
    eventsUrl,
    child,
    logFile,
    tail,
    async stop() {
      started.delete(bot);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
  started.add(bot);
  try {
    await until(
      `node dist/main.js ${options.mode} to start`,
      () => {
        if (exited !== undefined)
          throw new Error(`node dist/main.js ${options.mode} exited with ${exited}:\n${tail().join('\n')}`);
        return readFileSync(logFile, 'utf8').includes('"rapid-rollback started"');
      },
      options.timeoutMs ?? 20_000,
      20,
    );
    if (eventsUrl) {
      await until(
        'the HTTP receiver to answer',
        () =>
          fetch(eventsUrl, { method: 'POST', signal: AbortSignal.timeout(1_000) }).then(
            () => true,
            () => false,
          ),
        10_000,
        20,
      );
    }
  } catch (error) {
    await bot.stop();
    throw error;
  }
  return bot;
}

/** Stops every bot process this run started (by its own handle, never by name). */
export async function stopAllBots(): Promise<void> {
  await Promise.all([...started].map((bot) => bot.stop()));
}

/** VmRSS of a process, in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

// ------------------------------------------------------------------------------------------------- Redis

let redis: Redis | undefined;
export function benchRedis(): Redis {
  redis ??= new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
  return redis;
}

/** Deletes every key under `prefix` (SCAN, bounded). Returns how many were deleted. */
export function deleteKeys(prefix: string): Promise<number> {
  return deleteKeysIn(benchRedis(), prefix);
}

export async function closeRedis(): Promise<void> {
  if (redis) await redis.quit().catch(() => redis?.disconnect());
  redis = undefined;
}

/** The request hash the bot keeps (src/store/redis-request-store.ts): state and its timestamps. */
export async function requestFacts(prefix: string, id: string): Promise<Record<string, string>> {
  return benchRedis().hgetall(`${prefix}:request:${id}`);
}

/** The BullMQ job hash: `timestamp` (added), `processedOn` (a worker took it), `finishedOn`. */
export async function jobFacts(
  prefix: string,
  id: string,
): Promise<{ addedAt: number; processedOn: number; finishedOn: number }> {
  const [added, processed, finished] = await benchRedis().hmget(
    `${prefix}-bull:rollbacks:${id}`,
    'timestamp',
    'processedOn',
    'finishedOn',
  );
  return { addedAt: Number(added), processedOn: Number(processed), finishedOn: Number(finished) };
}

// ------------------------------------------------------------------------------------------------- Slack traffic

export interface SignedAnswer {
  status: number;
  body: string;
  /** From the request being written to the end of the answer, as the sender saw it. */
  ms: number;
}

/**
 * Keep-alive connections, as a busy sender keeps them: the sender's own cost stays small next to what is
 * measured (undici's fetch alone adds ~40 ms at 50 concurrent requests on 2 cores; node:http ~10 ms).
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** POSTs a body signed with the signing secret (Slack's v0 scheme) to the bot's Request URL. */
export function postSigned(url: string, body: string, timeoutMs = 30_000): Promise<SignedAnswer> {
  const target = new URL(url);
  const headers = { ...signRequest(body, SIGNING_SECRET), 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers,
        agent,
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

export function closeSender(): void {
  agent.destroy();
}

/** The body of `/rollback <text>` typed by the requester in the command channel. */
export function commandBody(slack: SlackSimulator, text: string): string {
  const responseUrl = slack.newResponseUrl({ channel: CHANNELS.command, userId: PEOPLE.requester });
  return slashCommand({ text, userId: PEOPLE.requester, channelId: CHANNELS.command, responseUrl });
}

/** Types `/rollback <text>` as the requester: a signed request to the bot's receiver. */
export function command(slack: SlackSimulator, eventsUrl: string, text: string): Promise<SignedAnswer> {
  return postSigned(eventsUrl, commandBody(slack, text));
}

export interface PostedRequest {
  id: string;
  target: string;
  ts: string;
}

/** Approval requests the bot posted in the command channel, by request id. */
export function postedRequests(slack: SlackSimulator): PostedRequest[] {
  const found: PostedRequest[] = [];
  for (const message of slack.messages(CHANNELS.command)) {
    if (message.threadTs) continue;
    const text = textOf(message);
    const target = /Rollback requested: (\S+)/.exec(text)?.[1];
    const id = /`(rb-[a-z0-9-]+)`/.exec(text)?.[1];
    if (target && id) found.push({ id, target, ts: message.ts });
  }
  return found;
}

/** Waits until the bot has recorded which message holds the request (as a person clicks later, never before). */
export async function awaitOrigin(prefix: string, id: string, timeoutMs = 10_000): Promise<void> {
  await until(
    `request ${id} to record its message`,
    async () => Boolean(await benchRedis().hget(`${prefix}:request:${id}`, 'originTs')),
    timeoutMs,
    5,
  );
}

/** The body of a click on Approve, on the request message, by the approver. */
export function approveBody(slack: SlackSimulator, request: PostedRequest): string {
  const responseUrl = slack.newResponseUrl({
    channel: CHANNELS.command,
    messageTs: request.ts,
    userId: PEOPLE.approver,
  });
  return blockAction({
    actionId: 'rollback_approve',
    value: request.id,
    userId: PEOPLE.approver,
    channelId: CHANNELS.command,
    messageTs: request.ts,
    responseUrl,
  });
}

/** A signed Cancel click on the request message, by the approver. */
export function cancelBody(slack: SlackSimulator, request: PostedRequest): string {
  const responseUrl = slack.newResponseUrl({
    channel: CHANNELS.command,
    messageTs: request.ts,
    userId: PEOPLE.approver,
  });
  return blockAction({
    actionId: 'rollback_cancel',
    value: request.id,
    userId: PEOPLE.approver,
    channelId: CHANNELS.command,
    messageTs: request.ts,
    responseUrl,
  });
}

/** Clicks Approve on the request message as the approver. */
export function approve(slack: SlackSimulator, eventsUrl: string, request: PostedRequest): Promise<SignedAnswer> {
  return postSigned(eventsUrl, approveBody(slack, request));
}

/** The Slack call that posted the final message of a target's rollback ("back on", or why not). */
export function finalCall(slack: SlackSimulator, target: string, fromIndex = 0): SimCall | undefined {
  for (let i = fromIndex; i < slack.calls.length; i++) {
    const call = slack.calls[i] as SimCall;
    if (call.method !== 'chat.postMessage' || !call.ok || typeof call.args.text !== 'string') continue;
    // The outcome may share its message with the steps just before it (the verification): any line counts.
    const lines = call.args.text.split('\n');
    if (
      lines.some(
        (line) =>
          line.startsWith(`✅ *${target} is back on `) ||
          line.startsWith(`❌ *Rollback of ${target} failed*`) ||
          line.startsWith(`⚠️ *Rollback of ${target} stopped*`),
      )
    )
      return call;
  }
  return undefined;
}

/** The "Rolling back <target> to …" notice posted in the incident channel. */
export function noticeCall(slack: SlackSimulator, target: string, fromIndex = 0): SimCall | undefined {
  for (let i = fromIndex; i < slack.calls.length; i++) {
    const call = slack.calls[i] as SimCall;
    if (
      call.method === 'chat.postMessage' &&
      call.ok &&
      call.args.channel === CHANNELS.incident &&
      call.args.thread_ts === undefined &&
      typeof call.args.text === 'string' &&
      call.args.text.startsWith(`Rolling back ${target} to `)
    )
      return call;
  }
  return undefined;
}
