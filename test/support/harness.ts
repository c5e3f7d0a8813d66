import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type Config, loadConfig, type Mode } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log.js';
import { QUEUE_NAME } from '../../src/queue/job-schema.js';
import { APPROVE_ACTION, CANCEL_ACTION } from '../../src/slack/blocks/request-blocks.js';
import { type Running, run } from '../../src/wiring.js';
import { FastlySimulator, type SimServiceSpec } from './fastly-simulator.js';
import { kubeBinaries } from './kube-binaries.js';
import { type HelmReleaseSpec, KubeSimulator } from './kube-simulator/index.js';
import { deleteKeys } from './redis-keys.js';
import { fastlyTarget, writeRollbackYml } from './rollback-yml.js';
import { blockAction, sendToApp, slashCommand } from './slack-payloads.js';
import { type SimMessage, type SimSubmission, SlackSimulator, textOf } from './slack-simulator.js';
import { type EnvelopeType, payloadFromForm } from './slack-socket-mode.js';
import { waitUntil } from './wait.js';

export const SIGNING_SECRET = 'test-signing-secret';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CDN_SERVICE = 'SU1Z0isxPaozGVKXdv0eY';
/** Channels and people in every harness workspace. */
export const CHANNELS = { command: 'CCMD', incident: 'CINC' } as const;
export const PEOPLE = { requester: 'UREQ', approver: 'UAPP', groupMember: 'UGRP', stranger: 'UOTHER' } as const;

export interface HarnessOptions {
  /** How many rollbacks the in-process worker runs at once (WORKER_CONCURRENCY). */
  workerConcurrency?: number;
  /** API_TOKEN: turns the HTTP API (the deploy gate) on. */
  apiToken?: string;
  /** METRICS_TOKEN: GET /metrics then needs it as a bearer token. */
  metricsToken?: string;
  /** rollback.yml's driftCheckEvery (how often a frozen target is read again), e.g. '1s'. */
  driftCheckEvery?: string;
  allowSelfApproval?: boolean;
  requestTtl?: string;
  /** Extra top-level rollback.yml lines, e.g. `groups: { checkout: [cdn, api] }`. */
  settings?: string[];
  /** The clock the app judges requests by (expiry, selfApprovalAfter): a test moves it forward. */
  now?: () => number;
  services?: SimServiceSpec[];
  /** Extra `targets:` YAML lines (indented two spaces). */
  extraTargets?: string;
  /** Extra YAML lines for the `cdn` target (indented four spaces), e.g. its `git:` block. */
  cdnExtra?: string[];
  mode?: Mode;
  pickupWarningMs?: number;
  /** Start the Kubernetes simulator with a Helm release `app` (target `api`) and a Deployment `web` (target `web`). */
  kube?: { release?: HelmReleaseSpec; readyDelayMs?: number; webImages?: string[]; migration?: boolean };
  /**
   * How Slack reaches the app: `http` (default) signs requests to its Request URL; `socket` runs it in Socket
   * Mode (SLACK_APP_TOKEN, no signing secret) and sends the same payloads as envelopes over the simulator's
   * WebSocket; `command()` and `click()` then resolve once the envelope is acknowledged.
   */
  transport?: 'http' | 'socket';
}

export function webDeployment(image: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      progressDeadlineSeconds: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}

function migratorDeployment() {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'migrator', labels: { app: 'migrator' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'migrator' } },
      template: {
        metadata: { labels: { app: 'migrator' } },
        spec: { containers: [{ name: 'migrator', image: 'registry/migrator:1.1.0' }] },
      },
    },
  };
}

export function appRelease(statuses: Array<'superseded' | 'deployed' | 'failed' | 'pending-upgrade'>): HelmReleaseSpec {
  return {
    name: 'app',
    namespace: 'prod',
    chart: { name: 'api', version: '1.0.0', appVersion: '1.0.0' },
    revisions: statuses.map((status, i) => ({
      image: `registry/api:1.${i}.0`,
      appVersion: `1.${i}.0`,
      chartVersion: `1.${i}.0`,
      status,
    })),
  };
}

export interface Harness {
  slack: SlackSimulator;
  fastly: FastlySimulator;
  kube: KubeSimulator | undefined;
  config: Config;
  redis: Redis;
  prefix: string;
  running: Running;
  eventsUrl: string;
  logs: string[];
  transport: 'http' | 'socket';
  /**
   * Types `/rollback <text>` as `user` in `channel`: a signed request to the real app, or an envelope over the
   * socket in Socket Mode (then `body` is the ack's payload as JSON).
   */
  command(
    text: string,
    options?: { user?: string; channel?: string },
  ): Promise<{ status: number; body: string; ms: number; responseUrl: string }>;
  /** Clicks a button on the request message. */
  click(
    action: 'approve' | 'cancel',
    request: { id: string; channel: string; ts: string },
    user: string,
  ): Promise<{ status: number; ms: number; responseUrl: string }>;
  /**
   * The person a modal was opened for submits it with `values` (block_id → action_id → typed text), signed to
   * the app or as an envelope, as Slack would; what the app answered and what became of the modal.
   */
  submitView(viewId: string, values: Record<string, Record<string, string>>): Promise<SimSubmission>;
  /** Clicks the first follow-up button ("Revert migration…") on a thread message. */
  clickFollowUp(message: SimMessage, user: string): Promise<{ status: number }>;
  /** Clicks the first button with `actionId` on a message (its value as the message carries it). */
  clickButton(message: SimMessage, actionId: string, user: string): Promise<{ status: number }>;
  /**
   * `/rollback <text>` by the requester, approved by the approver; resolves once the rollback's thread has the
   * post-rollback checklist (the rollback ended and said so), with the request id and the notice.
   */
  rollBack(text?: string): Promise<{ id: string; notice: SimMessage }>;
  /** Waits for the approval request message in a channel and returns its id and location. */
  awaitRequest(channel?: string): Promise<{ id: string; channel: string; ts: string; message: SimMessage }>;
  /** Starts one more worker process-equivalent (mode worker) on the same Redis and prefix. */
  startWorker(): Promise<Running>;
  /** What only `user` saw (response_url and ephemeral posts), as text. */
  privateTo(user: string): string[];
  /** BullMQ's state of a request's job (its id is the request id): 'waiting', 'active', 'completed', …, 'unknown'. */
  jobState(requestId: string): Promise<string>;
  /**
   * Waits until the request's job has ended in BullMQ, and says how. A worker flushes the job's thread before
   * the job ends, so every Slack call and every Fastly call of the run is recorded by then: a check that
   * something did not happen can be made at once after this.
   */
  jobEnded(requestId: string, timeoutMs?: number): Promise<'completed' | 'failed'>;
  close(): Promise<void>;
}

function defaultServices(): SimServiceSpec[] {
  return [{ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 }];
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const slack = await SlackSimulator.start();
  slack.addChannel({ id: CHANNELS.command, name: 'ops' });
  slack.addChannel({ id: CHANNELS.incident, name: 'incidents', botIsMember: false });
  slack.addUserGroup('S0SRE', [PEOPLE.groupMember]);
  const fastly = await FastlySimulator.start();
  for (const service of options.services ?? defaultServices()) fastly.addService(service);

  let kube: KubeSimulator | undefined;
  const kubeEnv: Record<string, string> = {};
  let kubeTargets = '';
  if (options.kube) {
    kube = await KubeSimulator.start({ readyDelayMs: options.kube.readyDelayMs ?? 20 });
    kube.seedHelmRelease(options.kube.release ?? appRelease(['superseded', 'deployed']));
    for (const image of options.kube.webImages ?? ['registry/web:1.0.0', 'registry/web:1.1.0'])
      kube.applyDeployment('prod', webDeployment(image));
    kubeEnv.KUBECONFIG = kube.writeKubeconfig();
    kubeEnv.HELM_BIN = (await kubeBinaries()).helm;
    const migration = options.kube.migration
      ? [
          '    migration:',
          '      podSelector: app=migrator',
          '      container: migrator',
          '      command: [./migrate, down, "1"]',
        ]
      : [];
    if (options.kube.migration) kube.applyDeployment('prod', migratorDeployment());
    kubeTargets = [
      '  api:',
      '    kind: helm',
      '    release: app',
      '    namespace: prod',
      '    timeout: 60s',
      ...migration,
      '  web:',
      '    kind: kubernetes',
      '    namespace: prod',
      '    deployment: web',
      '    timeout: 60s',
    ].join('\n');
  }

  const dir = mkdtempSync(join(tmpdir(), 'rr-harness-'));
  const file = writeRollbackYml(dir, {
    incidentChannel: CHANNELS.incident,
    approvers: [PEOPLE.approver, 'S0SRE'],
    settings: [
      `allowSelfApproval: ${options.allowSelfApproval ?? false}`,
      `requestTtl: ${options.requestTtl ?? '15m'}`,
      ...(options.driftCheckEvery ? [`driftCheckEvery: ${options.driftCheckEvery}`] : []),
      ...(options.settings ?? []),
    ],
    targets: [...fastlyTarget('cdn', CDN_SERVICE, options.cdnExtra), kubeTargets, options.extraTargets ?? ''],
  });
  const transport = options.transport ?? 'http';
  const config = loadConfig(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      ...(transport === 'socket' ? { SLACK_APP_TOKEN: slack.appToken } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
      SLACK_API_URL: slack.apiUrl,
      PORT: '0',
      REDIS_URL,
      ROLLBACK_CONFIG: file,
      FASTLY_API_TOKEN: fastly.token,
      FASTLY_API_URL: fastly.url,
      LOG_LEVEL: 'debug',
      GIT_CACHE_DIR: join(dir, 'git-cache'),
      ...(options.apiToken ? { API_TOKEN: options.apiToken } : {}),
      ...(options.metricsToken ? { METRICS_TOKEN: options.metricsToken } : {}),
      ...kubeEnv,
    },
    { mode: options.mode ?? 'all' },
  );
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const log = createLogger({ level: 'debug', destination: sink });
  const prefix = `rrtest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const running = await run(config, log, {
    prefix,
    workerConcurrency: options.workerConcurrency,
    pickupWarningMs: options.pickupWarningMs,
    now: options.now,
  });
  // In Socket Mode the app has started once Slack said hello; this checks the simulator agrees.
  if (transport === 'socket' && config.mode !== 'worker') await slack.socketMode.waitForConnection();
  const eventsUrl = `http://127.0.0.1:${running.port}/slack/events`;
  /** A body the HTTP receiver would get, sent the configured way: signed to eventsUrl, or as an envelope. */
  const toApp = async (type: EnvelopeType, body: string): Promise<{ status: number; body: string; ms: number }> => {
    if (transport === 'http') return sendToApp(eventsUrl, body, { signingSecret: SIGNING_SECRET });
    const ack = await slack.socketMode.deliver(type, payloadFromForm(body));
    return { status: 200, body: JSON.stringify(ack.payload ?? {}), ms: ack.ms };
  };
  const redis = new Redis(REDIS_URL);
  const extra: Running[] = [];
  let jobs: { queue: Queue; connection: Redis } | undefined;
  const jobQueue = () => {
    if (!jobs) {
      const connection = redis.duplicate();
      jobs = { connection, queue: new Queue(QUEUE_NAME, { connection, prefix: `${prefix}-bull` }) };
    }
    return jobs.queue;
  };

  const harness: Harness = {
    slack,
    fastly,
    kube,
    config,
    redis,
    prefix,
    running,
    eventsUrl,
    logs,
    transport,
    async command(text, { user = PEOPLE.requester, channel = CHANNELS.command } = {}) {
      const responseUrl = slack.newResponseUrl({ channel, userId: user });
      const body = slashCommand({ text, userId: user, channelId: channel, responseUrl });
      const response = await toApp('slash_commands', body);
      return { status: response.status, body: response.body, ms: response.ms, responseUrl };
    },
    async click(action, request, user) {
      const responseUrl = slack.newResponseUrl({ channel: request.channel, messageTs: request.ts, userId: user });
      const body = blockAction({
        actionId: action === 'approve' ? APPROVE_ACTION : CANCEL_ACTION,
        value: request.id,
        userId: user,
        channelId: request.channel,
        messageTs: request.ts,
        responseUrl,
        triggerId: slack.newTriggerId(user),
      });
      const response = await toApp('interactive', body);
      return { status: response.status, ms: response.ms, responseUrl };
    },
    submitView(viewId, values) {
      return slack.submitView(viewId, values, (body) => toApp('interactive', body));
    },
    clickFollowUp(message, user) {
      return harness.clickButton(message, 'rollback_follow_up', user);
    },
    async clickButton(message, actionId, user) {
      const elements = (message.blocks ?? []).flatMap(
        (b) => (b as { elements?: Array<{ action_id?: string; value?: string }> }).elements ?? [],
      );
      const button = elements.find((e) => e.action_id === actionId)?.value;
      if (button === undefined) throw new Error(`no ${actionId} button in: ${textOf(message)}`);
      const body = blockAction({
        actionId,
        value: button,
        userId: user,
        channelId: message.channel,
        messageTs: message.ts,
        responseUrl: slack.newResponseUrl({ channel: message.channel, messageTs: message.ts, userId: user }),
      });
      return toApp('interactive', body);
    },
    async rollBack(text = 'cdn elevated 5xx') {
      const notices = slack.messages(CHANNELS.incident).filter((m) => !m.threadTs).length;
      await harness.command(text);
      const request = await harness.awaitRequest();
      await harness.click('approve', request, PEOPLE.approver);
      const notice = await slack.waitFor((sim) => sim.messages(CHANNELS.incident).filter((m) => !m.threadTs)[notices]);
      await slack.waitFor(
        (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /After the rollback/.test(textOf(m))),
        15_000,
      );
      return { id: request.id, notice };
    },
    async awaitRequest(channel = CHANNELS.command) {
      const message = await slack.waitFor((sim) =>
        [...sim.messages(channel)].reverse().find((m) => !m.threadTs && /Rollback requested/.test(textOf(m))),
      );
      const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(message))?.[1];
      if (!id) throw new Error(`no request id in: ${textOf(message)}`);
      return { id, channel, ts: message.ts, message };
    },
    async startWorker() {
      const worker = await run({ ...config, mode: 'worker' }, log, { prefix });
      extra.push(worker);
      return worker;
    },
    privateTo(user) {
      return slack.ephemerals(user).map((m) => textOf(m));
    },
    jobState(requestId) {
      return jobQueue().getJobState(requestId);
    },
    jobEnded(requestId, timeoutMs = 15_000) {
      return waitUntil(
        `the end of job ${requestId}`,
        async () => {
          const state = await jobQueue().getJobState(requestId);
          return state === 'completed' || state === 'failed' ? state : undefined;
        },
        timeoutMs,
      );
    },
    async close() {
      await Promise.all(extra.map((r) => r.stop()));
      await running.stop();
      if (jobs) {
        await jobs.queue.close();
        jobs.connection.disconnect();
      }
      await Promise.all([slack.close(), fastly.close(), kube?.close()]);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    },
  };
  return harness;
}
