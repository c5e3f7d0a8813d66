/**
 * The real bot as child processes, for the fault tests (test/faults): spawn `app` and `worker` processes,
 * kill them, give them a Redis of their own to lose, and hold a Fastly call in flight while they die.
 *
 * src/main.ts is bundled once per test process with esbuild (./bundle.ts, as test/integration/cli.test.ts
 * does for the CLI): a process then starts in well under a second, instead of resolving thousands of files
 * in node_modules through tsx. The code is the code `npm run build` compiles; only the packaging differs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../../src/queue/job-schema.js';
import { bundleForNode } from './bundle.js';
import { FastlySimulator, type SimServiceSpec } from './fastly-simulator.js';
import { freePort } from './free-port.js';
import { KubeSimulator } from './kube-simulator/index.js';
import { deleteKeys } from './redis-keys.js';
import { blockAction, sendToApp, slashCommand } from './slack-payloads.js';
import { type SimMessage, SlackSimulator, textOf } from './slack-simulator.js';
import { waitUntil } from './wait.js';

export { waitUntil };

const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHANNELS = { command: 'CCMD', incident: 'CINC' } as const;
export const PEOPLE = { requester: 'UREQ', approver: 'UAPP' } as const;
const SECRET = 'faults-signing-secret';

/** For the faults themselves (an outage that lasts, a rollout's pace), never to wait for something to happen. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let bundle: Promise<string> | undefined;

/** src/main.ts with its dependencies in one file, built once per test process. */
function botEntry(): Promise<string> {
  bundle ??= (async () => {
    const outfile = await bundleForNode('src/main.ts', 'rapid-rollback-faults');
    process.once('exit', () => rmSync(outfile, { force: true }));
    return outfile;
  })();
  return bundle;
}

// ------------------------------------------------------------------------------------------- bot processes

export type BotMode = 'all' | 'app' | 'worker';

export interface LogLine {
  level?: number;
  msg?: string;
  time?: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const children = new Set<ChildProcess>();
// A test that fails half-way must not leave bots running: kill what this process started, by handle.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export class BotProcess {
  readonly logs: LogLine[] = [];
  /** Everything it wrote that was not a JSON log line (start-up errors). */
  readonly text: string[] = [];
  readonly exited: Promise<Exit>;
  readonly startedAt = Date.now();
  private exit: Exit | undefined;

  constructor(
    readonly name: string,
    readonly mode: BotMode,
    private readonly child: ChildProcess,
  ) {
    children.add(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        children.delete(child);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    let partial = '';
    const take = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.text.push(line);
        }
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** The first log line (from now or before) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    return waitUntil(
      `a log line in ${this.name}`,
      () => {
        if (!this.alive)
          throw new Error(
            `${this.name} exited (${JSON.stringify(this.exit)}) before the log line came:\n${this.tail()}`,
          );
        return this.logs.find(match);
      },
      timeoutMs,
    );
  }

  /** Sends a signal and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  tail(lines = 15): string {
    return [...this.text, ...this.logs.map((l) => JSON.stringify(l))].slice(-lines).join('\n');
  }
}

/** Starts `node <bundle> <mode>` with exactly `env` (and PATH); resolves once it says it started. */
async function startBot(mode: BotMode, env: Record<string, string>, name: string = mode): Promise<BotProcess> {
  const entry = await botEntry();
  const child = spawn(process.execPath, [entry, mode], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const bot = new BotProcess(name, mode, child);
  await bot.waitForLog((l) => l.msg === 'rapid-rollback started', 20_000);
  return bot;
}

// ------------------------------------------------------------------------------------------ a private Redis

/** Answers PING with PONG on 127.0.0.1:port. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/**
 * A `redis-server` of the test's own, to stop and start again. `aof`: every write is appended and fsynced
 * before it is acknowledged (`--appendonly yes --appendfsync always`), as a production Redis with persistence
 * would keep it; `none`: nothing is written to disk, so a restart starts empty.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly persistence: 'aof' | 'none',
  ) {}

  static async start(persistence: 'aof' | 'none'): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), mkdtempSync(join(tmpdir(), 'rr-faults-redis-')), persistence);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) and resolves once it answers PING. */
  async start(): Promise<number> {
    const started = Date.now();
    const persistence =
      this.persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        ...persistence,
        '--logfile',
        join(this.dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    children.add(child);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        children.delete(child);
        resolve(undefined);
      }),
    );
    await waitUntil(`redis-server on port ${this.port}`, () => redisAnswers(this.port), 10_000);
    return Date.now() - started;
  }

  /** Stops the server: SIGTERM is a clean shutdown (the AOF is flushed), SIGKILL a crash. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (!this.child) return;
    this.child.kill(signal);
    await this.exited;
    this.child = undefined;
  }

  async close(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// --------------------------------------------------------------------------- holding Fastly calls in flight

export interface HoldRule {
  method: 'GET' | 'PUT';
  /** Matched against the request's path. */
  path: RegExp;
  /** Let this many matching requests through first. */
  skip?: number;
  /**
   * Only a request made after one matching this went through (e.g. the first read after the activation,
   * however many reads came before it).
   */
  after?: { method: 'GET' | 'PUT'; path: RegExp };
  /**
   * `request`: held before it reaches Fastly, which never sees it if the caller dies meanwhile.
   * `response`: Fastly gets it and acts on it; the answer is held, and lost if the caller dies meanwhile.
   */
  phase: 'request' | 'response';
  /** `response` only: instead of holding it, answer the caller with this HTTP status (Fastly did act). */
  answerStatus?: number;
}

export interface Held {
  /** Resolves when a matching request is being held. */
  readonly reached: Promise<void>;
  /** Lets it go on (once the test has done what it wanted meanwhile). */
  release(): void;
}

interface Rule extends HoldRule {
  seen: number;
  reach: () => void;
  released: Promise<void>;
}

/**
 * An HTTP proxy in front of the Fastly simulator that holds chosen calls: the bot talks to it as to Fastly,
 * and a test kills the bot while a call is held, so "killed during the activation" is a place, not a guess.
 * Each rule holds one request; everything else goes straight through.
 */
export class HoldingProxy {
  private readonly rules: Rule[] = [];
  /** Every request seen, for rules that wait for another request (`after`). */
  private readonly passed: Array<{ method: string; path: string }> = [];
  private readonly agent = new http.Agent({ keepAlive: true });

  private constructor(
    private readonly server: http.Server,
    readonly upstream: URL,
  ) {}

  static async start(upstream: string): Promise<HoldingProxy> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new HoldingProxy(server, new URL(upstream));
    server.on('request', (req, res) => void proxy.handle(req, res));
    return proxy;
  }

  get url(): string {
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  hold(rule: HoldRule): Held {
    let reach = () => undefined as void;
    let release = () => undefined as void;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.rules.push({ ...rule, seen: 0, reach, released });
    return { reached, release };
  }

  private take(method: string, path: string): Rule | undefined {
    const index = this.rules.findIndex(
      (r) =>
        r.method === method &&
        r.path.test(path) &&
        (!r.after || this.passed.some((p) => p.method === r.after?.method && r.after.path.test(p.path))) &&
        r.seen++ >= (r.skip ?? 0),
    );
    this.passed.push({ method, path });
    return index < 0 ? undefined : this.rules.splice(index, 1)[0];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let gone = false;
    res.once('close', () => (gone = !res.writableFinished));
    const rule = this.take(req.method ?? 'GET', new URL(req.url ?? '/', this.upstream).pathname);
    if (rule?.phase === 'request') {
      rule.reach();
      await Promise.race([rule.released, new Promise((resolve) => res.once('close', resolve))]);
      if (gone) return; // the caller died: Fastly never hears of it
    }
    const answer = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
      (resolve, reject) => {
        const upstream = http.request(
          new URL(req.url ?? '/', this.upstream),
          { method: req.method, headers: { ...req.headers, host: this.upstream.host }, agent: this.agent },
          (answer) => {
            const body: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => body.push(chunk));
            answer.on('end', () =>
              resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(body) }),
            );
            answer.on('error', reject);
          },
        );
        upstream.on('error', reject);
        upstream.end(Buffer.concat(chunks));
      },
    ).catch(() => undefined);
    if (rule?.phase === 'response' && rule.answerStatus !== undefined) {
      rule.reach();
      if (!gone && !res.destroyed)
        res
          .writeHead(rule.answerStatus, { 'content-type': 'application/json' })
          .end(JSON.stringify({ msg: http.STATUS_CODES[rule.answerStatus] }));
      return;
    }
    if (rule?.phase === 'response') {
      rule.reach();
      await Promise.race([rule.released, new Promise((resolve) => res.once('close', resolve))]);
    }
    if (gone || res.destroyed) return;
    if (!answer) {
      res.destroy();
      return;
    }
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    delete headers.connection;
    res.writeHead(answer.status, headers).end(answer.body);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// -------------------------------------------------------------------------------------------------- a world

export interface WorldOptions {
  /** How many Fastly targets (cdn-01, cdn-02, …), each its own service with v42 live and v41 before it. */
  targets: number;
  /** Default: the shared test Redis. */
  redisUrl?: string;
  /** Redis settings over REDIS_URL (REDIS_SENTINELS, …): a Redis of the test's own, as redisUrl. */
  redisEnv?: Record<string, string>;
  /** With redisEnv: the test's own connection to that Redis (jobState). */
  redisClient?: () => Redis;
  /** Every worker started here: RR_WORKER_LOCK_MS. */
  workerLockMs?: number;
  /** Adds target `web`: a Deployment on the Kubernetes simulator whose rollout streams progress lines. */
  kube?: { readyDelayMs: number; replicas: number };
}

export interface RequestRef {
  id: string;
  target: string;
  /** Written in the reason, so the notice and its thread can be found. */
  tag: string;
  channel: string;
  ts: string;
}

/**
 * One Slack simulator, one Fastly simulator behind a HoldingProxy, a rollback.yml with many targets, and
 * the bot processes a test starts on them. Each repetition uses its own target and request, so one world
 * serves a whole test file.
 */
export class BotWorld {
  readonly bots: BotProcess[] = [];
  readonly prefix = `rrfaults-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private tags = 0;

  private constructor(
    readonly slack: SlackSimulator,
    readonly fastly: FastlySimulator,
    readonly gate: HoldingProxy,
    readonly dir: string,
    readonly targets: string[],
    private readonly options: WorldOptions,
    readonly kube: KubeSimulator | undefined,
    private readonly kubeconfig: string | undefined,
  ) {}

  static async start(options: WorldOptions): Promise<BotWorld> {
    const slack = await SlackSimulator.start();
    slack.addChannel({ id: CHANNELS.command, name: 'ops' });
    slack.addChannel({ id: CHANNELS.incident, name: 'incidents' });
    const fastly = await FastlySimulator.start();
    const gate = await HoldingProxy.start(fastly.url);
    const targets = Array.from({ length: options.targets }, (_, i) => `cdn-${String(i + 1).padStart(2, '0')}`);
    for (const target of targets) fastly.addService(serviceSpec(target));
    const dir = mkdtempSync(join(tmpdir(), 'rr-faults-'));
    let kube: KubeSimulator | undefined;
    if (options.kube) {
      kube = await KubeSimulator.start({ readyDelayMs: options.kube.readyDelayMs });
      for (const image of ['registry/web:1.0.0', 'registry/web:1.1.0'])
        kube.applyDeployment('prod', webDeployment(image, options.kube.replicas));
    }
    writeFileSync(
      join(dir, 'rollback.yml'),
      [
        `incidentChannel: ${CHANNELS.incident}`,
        `approvers: [${PEOPLE.approver}]`,
        'targets:',
        ...targets.flatMap((t) => [`  ${t}:`, '    kind: fastly', `    serviceId: ${serviceId(t)}`]),
        ...(kube
          ? ['  web:', '    kind: kubernetes', '    namespace: prod', '    deployment: web', '    timeout: 60s']
          : []),
      ].join('\n'),
    );
    return new BotWorld(slack, fastly, gate, dir, targets, options, kube, kube?.writeKubeconfig(dir));
  }

  /** The environment every bot process here gets, as an operator would set it. */
  env(port = 0): Record<string, string> {
    return {
      SLACK_BOT_TOKEN: this.slack.botToken,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: this.slack.apiUrl,
      PORT: String(port),
      REDIS_URL: this.options.redisUrl ?? SHARED_REDIS_URL,
      ...this.options.redisEnv,
      REDIS_PREFIX: this.prefix,
      ROLLBACK_CONFIG: join(this.dir, 'rollback.yml'),
      FASTLY_API_TOKEN: this.fastly.token,
      FASTLY_API_URL: this.gate.url,
      LOG_LEVEL: 'info',
      GIT_CACHE_DIR: join(this.dir, 'git-cache'),
      ...(this.options.workerLockMs === undefined ? {} : { RR_WORKER_LOCK_MS: String(this.options.workerLockMs) }),
      ...(this.kubeconfig ? { KUBECONFIG: this.kubeconfig } : {}),
    };
  }

  private appPort: number | undefined;

  async startApp(): Promise<BotProcess> {
    this.appPort ??= await freePort();
    const app = await startBot('app', this.env(this.appPort), 'app');
    this.bots.push(app);
    return app;
  }

  /** A worker process; `env` adds to or overrides the world's (an empty value counts as unset). */
  async startWorker(name = `worker-${this.bots.length}`, env: Record<string, string> = {}): Promise<BotProcess> {
    const worker = await startBot('worker', { ...this.env(), ...env }, name);
    this.bots.push(worker);
    return worker;
  }

  private get eventsUrl(): string {
    if (this.appPort === undefined) throw new Error('start the app first');
    return `http://127.0.0.1:${this.appPort}/slack/events`;
  }

  /** Types `/rollback <target> <tag>` and returns the HTTP answer (the ack) and how long it took. */
  async command(text: string, user: string = PEOPLE.requester): Promise<{ status: number; body: string; ms: number }> {
    const responseUrl = this.slack.newResponseUrl({ channel: CHANNELS.command, userId: user });
    return sendToApp(this.eventsUrl, slashCommand({ text, userId: user, channelId: CHANNELS.command, responseUrl }), {
      signingSecret: SECRET,
    });
  }

  /** `/rollback <target>` and the approval request it posts. */
  async request(target: string): Promise<RequestRef> {
    const answer = await this.attempt(target);
    if ('refused' in answer) throw new Error(`/rollback ${target} was refused: ${answer.refused}`);
    return answer;
  }

  /** `/rollback <target>`: the approval request it posts, or what the requester alone was told instead. */
  async attempt(target: string, timeoutMs = 10_000): Promise<RequestRef | { refused: string; ms: number }> {
    const tag = `fault-${String(++this.tags).padStart(4, '0')}`;
    const privately = this.privateTo(PEOPLE.requester).length;
    const sentAt = Date.now();
    const answer = await this.command(`${target} ${tag}`);
    if (answer.status !== 200) throw new Error(`/rollback ${target}: HTTP ${answer.status}`);
    const found = await waitUntil<SimMessage | { refused: string; ms: number }>(
      `an answer to /rollback ${target}`,
      () => {
        const message = this.slack.messages(CHANNELS.command).find((m) => !m.threadTs && textOf(m).includes(tag));
        if (message) return message;
        const refused = this.privateTo(PEOPLE.requester)
          .slice(privately)
          .find((t) => t.startsWith('❌'));
        return refused === undefined ? undefined : { refused, ms: Date.now() - sentAt };
      },
      timeoutMs,
    );
    if ('refused' in found) return found;
    return { id: requestIdOf(found), target, tag, channel: CHANNELS.command, ts: found.ts };
  }

  /** Clicks Approve as the approver; resolves with the time of the click once the app answered. */
  async approve(request: RequestRef): Promise<number> {
    const clickedAt = Date.now();
    const body = blockAction({
      actionId: 'rollback_approve',
      value: request.id,
      userId: PEOPLE.approver,
      channelId: request.channel,
      messageTs: request.ts,
      responseUrl: this.slack.newResponseUrl({
        channel: request.channel,
        messageTs: request.ts,
        userId: PEOPLE.approver,
      }),
    });
    const answer = await sendToApp(this.eventsUrl, body, { signingSecret: SECRET });
    if (answer.status !== 200) throw new Error(`approve ${request.id}: HTTP ${answer.status}`);
    return clickedAt;
  }

  /** The "Rolling back …" notice of a request, once posted. */
  notice(request: RequestRef): SimMessage | undefined {
    return this.slack.messages(CHANNELS.incident).find((m) => !m.threadTs && textOf(m).includes(`· ${request.tag}`));
  }

  /** The request's incident thread as text, oldest first. */
  thread(request: RequestRef): string[] {
    const notice = this.notice(request);
    return notice ? this.slack.thread(CHANNELS.incident, notice.ts).map(textOf) : [];
  }

  /** Waits for the thread's last word (back on, failed or stopped) and returns the whole thread. */
  async finished(request: RequestRef, timeoutMs = 15_000): Promise<string[]> {
    await waitUntil(
      `the end of ${request.target}'s thread (${request.tag})`,
      () => this.thread(request).some((t) => FINAL.test(t)),
      timeoutMs,
    );
    return this.thread(request);
  }

  /** What only `user` saw (ephemeral answers), as text. */
  privateTo(user: string): string[] {
    return this.slack.ephemerals(user).map(textOf);
  }

  private jobs: { queue: Queue; connection: Redis } | undefined;

  /** BullMQ's state of a request's job (its id is the request id): 'waiting', 'active', 'completed', …, 'unknown'. */
  jobState(request: RequestRef): Promise<string> {
    if (!this.jobs) {
      const connection =
        this.options.redisClient?.() ??
        new Redis(this.options.redisUrl ?? SHARED_REDIS_URL, { maxRetriesPerRequest: null });
      // A fault test stops its Redis on purpose: reconnecting is expected, not an error to print.
      connection.on('error', () => undefined);
      const queue = new Queue(QUEUE_NAME, { connection, prefix: `${this.prefix}-bull` });
      queue.on('error', () => undefined);
      this.jobs = { connection, queue };
    }
    return this.jobs.queue.getJobState(request.id);
  }

  /**
   * Waits until the request's job has ended in BullMQ (completed or failed) and says how. A run flushes its
   * thread before its job ends, and an ended job is never run again: what is not in the thread by then never
   * will be.
   */
  jobEnded(request: RequestRef, timeoutMs = 15_000): Promise<string> {
    return waitUntil(
      `the end of ${request.target}'s job (${request.tag})`,
      async () => {
        const state = await this.jobState(request);
        return state === 'completed' || state === 'failed' ? state : undefined;
      },
      timeoutMs,
    );
  }

  /** Fastly activations (PUT …/activate) of one target's service. */
  activations(target: string): number {
    return this.fastly.activations.filter((a) => a.serviceId === serviceId(target)).length;
  }

  activeVersion(target: string): number | null {
    return this.fastly.activeVersion(serviceId(target));
  }

  async close(): Promise<void> {
    await Promise.all(this.bots.map((b) => b.kill('SIGKILL')));
    if (this.jobs) {
      await this.jobs.queue.close();
      this.jobs.connection.disconnect();
    }
    await Promise.all([this.slack.close(), this.fastly.close(), this.gate.close(), this.kube?.close()]);
    rmSync(this.dir, { recursive: true, force: true });
    if (this.options.redisUrl || this.options.redisEnv) return;
    const redis = new Redis(SHARED_REDIS_URL);
    await deleteKeys(redis, this.prefix);
    redis.disconnect();
  }
}

/** Deployment `web`: each pod Ready after readyDelayMs, so its rollout streams progress for a while. */
export function webDeployment(image: string, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas,
      progressDeadlineSeconds: 60,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}

/** The last message of a rollback's thread. */
export const FINAL = /\*((cdn-\d+|web) is back on|Rollback of (cdn-\d+|web) (failed|stopped))/;

function requestIdOf(message: SimMessage): string {
  const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(message))?.[1];
  if (!id) throw new Error(`no request id in: ${textOf(message)}`);
  return id;
}

/** A 22-character Fastly service id per target: FAULTS…cdn01 without the dash. */
export function serviceId(target: string): string {
  return `FAULTS${target.replace(/[^a-z0-9]/g, '').padStart(16, '0')}`;
}

function serviceSpec(target: string): SimServiceSpec {
  return { id: serviceId(target), name: `www-${target}`, versions: 42, active: 42 };
}

/** Path of the calls a worker makes for one target's service. */
export const paths = {
  read: (target: string) => new RegExp(`^/service/${serviceId(target)}/details$`),
  activate: (target: string) => new RegExp(`^/service/${serviceId(target)}/version/\\d+/activate$`),
};

/** p50 / max of a list of numbers, rounded. */
export function summary(values: number[]): { n: number; p50: number; max: number; min: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: Math.round(sorted[0] ?? NaN),
    p50: Math.round(sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN),
    max: Math.round(sorted.at(-1) ?? NaN),
  };
}
