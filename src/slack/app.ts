import type { Server } from 'node:http';
import { App, type AuthorizeResult, type CustomRoute, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { RollbackService } from '../core/rollback-service.js';
import type { Logger } from '../log.js';
import { ackGate, NO_GATE } from './ack-gate.js';
import { registerBatchActions } from './listeners/batch-actions.js';
import { type DecisionOptions, registerDecisionActions } from './listeners/decision-actions.js';
import { registerDiffActions } from './listeners/diff-actions.js';
import { registerFreezeActions } from './listeners/freeze-actions.js';
import { registerGitOpsActions } from './listeners/gitops-actions.js';
import { registerRollbackCommand } from './listeners/rollback-command.js';
import { guardReplays, type SeenSignatures } from './replay-guard.js';
import { slackLogger } from './slack-logger.js';

export interface SlackSettings {
  botToken: string;
  signingSecret?: string | undefined;
  appToken?: string | undefined;
  apiUrl?: string | undefined;
  socketMode: boolean;
  port: number;
  /** Told of every Web API call (each retry too): its method and HTTP status, undefined when nothing answered. */
  observeCall?: ((method: string, status: number | undefined) => void) | undefined;
}

/**
 * Every Web API client of the bot, Bolt's included: 10 s per call, 5 retries from 200 ms up to 5 s apart
 * (after a 429 the client first waits Slack's Retry-After). The library's default, ten retries over about
 * half an hour with 1 s to minutes between them, kept the notice 21 s behind four 429s of 1 s.
 */
function clientOptions(settings: Pick<SlackSettings, 'apiUrl' | 'observeCall'>) {
  return {
    slackApiUrl: settings.apiUrl,
    timeout: 10_000,
    retryConfig: { retries: 5, factor: 2, minTimeout: 200, maxTimeout: 5_000 },
    ...(settings.observeCall ? { fetch: observedFetch(settings.observeCall) } : {}),
  };
}

/** The platform's fetch, telling `observe` the Web API method (the URL's last segment) and the HTTP status. */
function observedFetch(observe: NonNullable<SlackSettings['observeCall']>): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = new URL(url).pathname.split('/').pop() || 'unknown';
    try {
      const response = await fetch(input, init);
      observe(method, response.status);
      return response;
    } catch (error) {
      observe(method, undefined);
      throw error;
    }
  };
}

/** A Web API client for the bot token; the worker uses one too, to write in threads. */
export function createSlackClient(
  settings: Pick<SlackSettings, 'botToken' | 'apiUrl' | 'observeCall'>,
  log: Logger,
): WebClient {
  return new WebClient(settings.botToken, { ...clientOptions(settings), logger: slackLogger(log, 'bolt') });
}

export interface SlackApp {
  /** The port the HTTP server listens on (HTTP mode and Socket Mode alike: it also serves `routes`). */
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
}

/** Who the bot is (auth.test), asked on first need and remembered; a failure is asked again next time. */
function botIdentity(client: WebClient, botToken: string, log: Logger): () => Promise<AuthorizeResult> {
  let known: Promise<AuthorizeResult> | undefined;
  return () => {
    known ??= client.auth.test().then(
      (result) => ({ botToken, botId: result.bot_id, botUserId: result.user_id, teamId: result.team_id }),
      (error: unknown) => {
        known = undefined;
        log.warn({ err: error }, 'Slack did not confirm the bot token (auth.test)');
        throw error;
      },
    );
    return known;
  };
}

/** The Bolt app: transport (HTTP or Socket Mode) and listeners. Listeners ack at once and hand off. */
export interface SlackAppOptions extends Omit<DecisionOptions, 'afterAcks'> {
  /** Refuses replayed HTTP requests (HTTP mode). */
  seenSignatures?: SeenSignatures | undefined;
  /**
   * Served beside Slack's own endpoint by the receiver's one HTTP server on PORT, in HTTP mode and in Socket
   * Mode alike (the HTTP API: the deploy gate).
   */
  routes?: CustomRoute[] | undefined;
}

export function createSlackApp(
  settings: SlackSettings,
  service: RollbackService,
  log: Logger,
  options: SlackAppOptions = {},
): SlackApp {
  const identity = botIdentity(createSlackClient(settings, log), settings.botToken, log);
  const common = {
    // Bolt with a plain token and no start-up check calls auth.test before every request, so a slow Slack
    // would delay every ack and every approval; this asks once and remembers (and start-up still does
    // not depend on Slack answering).
    authorize: identity,
    logger: slackLogger(log, 'bolt'),
    clientOptions: clientOptions(settings),
  };
  const routes = options.routes ?? [];
  let app: App;
  let server: () => Server | undefined;
  // HTTP mode: the work a request starts waits for the answers still owed (ack-gate.ts). The gate counts from
  // before the replay guard, so a request's signature and replay checks count as part of its wait for an answer.
  const gate = settings.socketMode ? NO_GATE : ackGate();
  if (settings.socketMode) {
    // Built here rather than by App, so that the custom routes get the one HTTP server, on PORT.
    const receiver = new SocketModeReceiver({
      appToken: settings.appToken ?? '',
      logger: common.logger,
      customRoutes: routes,
      installerOptions: { port: settings.port, clientOptions: common.clientOptions },
    });
    app = new App({ ...common, receiver });
    // Bolt keeps the server of its Socket Mode receiver to itself; its port is needed when PORT is 0.
    server = () => (receiver as unknown as { httpServer?: Server }).httpServer;
  } else {
    const receiver = new HTTPReceiver({
      signingSecret: settings.signingSecret ?? '',
      processBeforeResponse: false,
      logger: common.logger,
      customRoutes: routes,
    });
    if (options.seenSignatures)
      receiver.requestListener = guardReplays(
        receiver.requestListener,
        options.seenSignatures,
        log,
        settings.signingSecret ?? '',
      );
    receiver.requestListener = gate.wrap(receiver.requestListener);
    app = new App({ ...common, receiver });
    server = () => undefined;
  }

  registerRollbackCommand(app, service, log, gate.turn);
  registerDecisionActions(app, service, log, { ...options, afterAcks: gate.turn, approvalSlot: gate.run });
  registerDiffActions(app, service, log, gate.turn);
  registerBatchActions(app, service, log, { ...options, afterAcks: gate.turn, approvalSlot: gate.run });
  registerFreezeActions(app, service, log);
  registerGitOpsActions(app, service, log);
  app.error(async (error) => {
    log.error({ err: error }, 'unhandled error in a Slack listener');
  });

  return {
    async start() {
      void identity().catch(() => undefined);
      if (settings.socketMode) {
        await app.start();
        return { port: await listeningPort(server(), settings.port) };
      }
      return { port: await listeningPort((await app.start(settings.port)) as Server, settings.port) };
    },
    stop: () => app.stop().then(() => undefined),
  };
}

/** The port a server listens on, once it does (PORT=0 picks a free one). */
async function listeningPort(server: Server | undefined, asked: number): Promise<number> {
  if (!server) return asked;
  if (!server.listening)
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : asked;
}
