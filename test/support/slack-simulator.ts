import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { viewSubmission } from './slack-payloads.js';
import { type SocketModeOptions, SocketModeSimulator } from './slack-socket-mode.js';

/**
 * An in-process stand-in for the slice of Slack the bot talks to: the Web API methods it calls and the
 * response_url it answers on. It answers the way Slack does (HTTP 200 with `ok:false` for API errors,
 * 429 + Retry-After for rate limits) so the real @slack/web-api client and Bolt run unmodified against it.
 *
 * Deliberately not modelled: user membership of channels, scopes, archived channels, pagination.
 */

export interface SimMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown[];
  /** the bot user id: everything in the simulator is posted by the bot */
  user: string;
  updates: number;
  ephemeralTo?: string;
}

export interface SimCall {
  method: string;
  /** the arguments as Slack parsed them (blocks decoded), without the token */
  args: Record<string, unknown>;
  at: number;
  status: number;
  ok: boolean;
  error?: string;
}

export interface SimChannelSpec {
  id: string;
  name: string;
  isPrivate?: boolean;
  /** default true */
  botIsMember?: boolean;
}

export interface SimResponseUrlSource {
  /** channel the command or action came from: `in_channel` responses are posted there */
  channel?: string;
  /** the message that carried the button: `replace_original` / `delete_original` act on it */
  messageTs?: string;
  /** who clicked or typed: ephemeral responses are shown to them */
  userId?: string;
}

/** A modal opened with views.open, as the person it was opened for sees it. */
export interface SimView {
  id: string;
  /** who clicked: the trigger_id's person */
  user: string;
  /** the view as Slack holds it (what views.open answered), updated by `response_action: update` */
  view: Record<string, unknown>;
  open: boolean;
  /** the input errors Slack shows under the fields after the last submission (`response_action: errors`) */
  errors?: Record<string, string>;
}

/** What the app answered to a view_submission, and what Slack did with the modal. */
export interface SimSubmission {
  status: number;
  /** the ack's body as JSON ({} for an empty ack) */
  answer: Record<string, unknown>;
  /** closed (an empty ack or `clear`), still open with errors, or replaced (`update`) */
  outcome: 'closed' | 'errors' | 'updated';
}

export interface SimErrorSpec {
  /** a Web API method, `'*'` for any Web API method, or `'response_url'` for response_url posts */
  method: string;
  count: number;
  status?: 429 | 500 | 503;
  retryAfterSeconds?: number;
}

type Args = Record<string, unknown>;
type Handler = (args: Args) => Record<string, unknown>;

interface SimChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  botIsMember: boolean;
  created: number;
}

interface ResponseUrlState {
  source: SimResponseUrlSource;
  uses: number;
}

/** An `ok:false` answer; Slack sends these with HTTP 200. */
class SlackApiError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

/** Slack documents a response_url as good for five responses. */
const RESPONSE_URL_MAX_USES = 5;
const BOT_ID = 'B0SIM';

export class SlackSimulator {
  readonly url: string;
  readonly apiUrl: string;
  readonly botToken: string;
  readonly botUserId: string;
  readonly teamId: string;
  /** Socket Mode: `apps.connections.open` (with `appToken`) and the WebSocket it hands out. */
  readonly socketMode: SocketModeSimulator;
  readonly calls: SimCall[] = [];
  readonly responses: Array<{ url: string; body: Record<string, unknown>; at: number }> = [];

  private readonly server: Server;
  private readonly channels = new Map<string, SimChannel>();
  private readonly userGroups = new Map<string, string[]>();
  private readonly channelMessages = new Map<string, SimMessage[]>();
  private readonly ephemeralMessages: SimMessage[] = [];
  private readonly responseUrls = new Map<string, ResponseUrlState>();
  private readonly errorQueue: SimErrorSpec[] = [];
  private readonly handlers: Record<string, Handler>;
  private readonly triggers = new Map<string, { user: string; at: number; used: boolean }>();
  private readonly views = new Map<string, SimView>();
  private latencyMs = 0;
  private tsSeq = 0;

  private constructor(
    server: Server,
    opts: { botToken: string; botUserId: string; teamId: string; socketMode?: SocketModeOptions },
  ) {
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.url}/api/`;
    this.botToken = opts.botToken;
    this.botUserId = opts.botUserId;
    this.teamId = opts.teamId;
    this.socketMode = new SocketModeSimulator(this.url, opts.socketMode);
    this.handlers = {
      'auth.test': () => this.authTest(),
      'apps.connections.open': () => this.socketMode.open(),
      'chat.postMessage': (a) => this.postMessage(a),
      'chat.update': (a) => this.update(a),
      'chat.postEphemeral': (a) => this.postEphemeral(a),
      'usergroups.users.list': (a) => this.userGroupUsers(a),
      'conversations.join': (a) => this.join(a),
      'conversations.info': (a) => ({ channel: this.channelObject(this.visibleChannel(a.channel)) }),
      'views.open': (a) => this.openView(a),
    };
  }

  static async start(
    options: { botToken?: string; botUserId?: string; teamId?: string; socketMode?: SocketModeOptions } = {},
  ): Promise<SlackSimulator> {
    let sim: SlackSimulator | undefined;
    const server = createServer((req, res) => {
      // The server only listens after `sim` exists, so a request can never see it undefined.
      void sim?.handle(req, res);
    });
    server.on('upgrade', (req, socket, head) => sim?.socketMode.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    sim = new SlackSimulator(server, {
      botToken: options.botToken ?? 'xoxb-sim-token',
      botUserId: options.botUserId ?? 'UBOT',
      teamId: options.teamId ?? 'T0SIM',
      ...(options.socketMode ? { socketMode: options.socketMode } : {}),
    });
    return sim;
  }

  addChannel(c: SimChannelSpec): void {
    this.channels.set(c.id, {
      id: c.id,
      name: c.name,
      isPrivate: c.isPrivate ?? false,
      botIsMember: c.botIsMember ?? true,
      created: Math.floor(Date.now() / 1000),
    });
    if (!this.channelMessages.has(c.id)) this.channelMessages.set(c.id, []);
  }

  addUserGroup(id: string, users: string[]): void {
    this.userGroups.set(id, [...users]);
  }

  callsTo(method: string): SimCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  messages(channel: string): SimMessage[] {
    const id = this.findChannel(channel)?.id ?? channel;
    return (this.channelMessages.get(id) ?? []).map((m) => ({ ...m }));
  }

  thread(channel: string, threadTs: string): SimMessage[] {
    return this.messages(channel).filter((m) => m.threadTs === threadTs);
  }

  ephemerals(user?: string): SimMessage[] {
    return this.ephemeralMessages.filter((m) => user === undefined || m.ephemeralTo === user).map((m) => ({ ...m }));
  }

  /**
   * A fresh response_url. Pass where the command or click came from so that `in_channel`,
   * `replace_original` and `delete_original` responses land where Slack would put them.
   */
  newResponseUrl(source: SimResponseUrlSource = {}): string {
    const id = randomUUID();
    this.responseUrls.set(id, { source, uses: 0 });
    return `${this.url}/response/${id}`;
  }

  /**
   * A trigger_id for an interaction by `user` (a click, a command): views.open takes it once, within 3 s, and
   * opens the modal for that person, as Slack does.
   */
  newTriggerId(user: string): string {
    const n = () => String(Math.floor(Math.random() * 1e10));
    const id = `${n()}.${n()}.${randomUUID().replace(/-/g, '')}`;
    this.triggers.set(id, { user, at: Date.now(), used: false });
    return id;
  }

  /** The modals opened for `user` (every one, open or closed, in order). */
  viewsOf(user?: string): SimView[] {
    return [...this.views.values()].filter((v) => user === undefined || v.user === user).map((v) => ({ ...v }));
  }

  /**
   * The person submits an open modal with `values` (block_id → action_id → typed text): the view_submission
   * payload goes to the app through `deliver` (signed to its Request URL, or as a Socket Mode envelope), and the
   * app's answer is applied as Slack applies it: an empty ack or `clear` closes the modal, `errors` keeps it open
   * with the messages under the fields, `update` replaces it.
   */
  async submitView(
    viewId: string,
    values: Record<string, Record<string, string>>,
    deliver: (body: string) => Promise<{ status: number; body: string }>,
  ): Promise<SimSubmission> {
    const state = this.views.get(viewId);
    if (!state?.open) throw new Error(`no open view ${viewId}`);
    const response = await deliver(viewSubmission({ userId: state.user, view: state.view, values }));
    let answer: Record<string, unknown> = {};
    if (response.body.trim() !== '') {
      const parsed: unknown = JSON.parse(response.body);
      if (isRecord(parsed)) answer = parsed;
    }
    if (response.status !== 200) return { status: response.status, answer, outcome: 'errors' };
    if (answer.response_action === 'errors' && isRecord(answer.errors)) {
      state.errors = Object.fromEntries(Object.entries(answer.errors).map(([k, v]) => [k, String(v)]));
      return { status: response.status, answer, outcome: 'errors' };
    }
    delete state.errors;
    if (answer.response_action === 'update' && isRecord(answer.view)) {
      state.view = { ...this.checkedView(answer.view), id: viewId };
      return { status: response.status, answer, outcome: 'updated' };
    }
    state.open = false;
    return { status: response.status, answer, outcome: 'closed' };
  }

  injectErrors(spec: SimErrorSpec): void {
    this.errorQueue.push({ ...spec });
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  async waitFor<T>(predicate: (sim: SlackSimulator) => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = predicate(this);
        if (value !== undefined && value !== false && value !== null) return value;
      } catch (error) {
        // An assertion inside the predicate is "not yet"; its message is kept for the timeout report.
        lastError = error;
      }
      if (Date.now() >= deadline) throw new Error(this.describeTimeout(timeoutMs, lastError));
      await sleep(10);
    }
  }

  /** The app-level token (`xapp-…`) that opens Socket Mode connections. */
  get appToken(): string {
    return this.socketMode.appToken;
  }

  async close(): Promise<void> {
    await this.socketMode.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // fetch keeps connections alive; without this close() waits for them to time out.
    this.server.closeAllConnections();
    await closed;
  }

  // ---------------------------------------------------------------- transport

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', this.url);
      const raw = await readBody(req);
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      if (url.pathname.startsWith('/api/')) {
        await this.handleApi(url.pathname.slice('/api/'.length), url, raw, req, res);
      } else if (url.pathname.startsWith('/response/') && req.method === 'POST') {
        this.handleResponseUrl(url, raw, req, res);
      } else {
        send(res, 404, { ok: false, error: 'not_found' });
      }
    } catch (error) {
      // A bug in the simulator, not a Slack answer: make it loud.
      send(res, 500, { ok: false, error: 'simulator_bug', detail: String(error) });
    }
  }

  private async handleApi(
    method: string,
    url: URL,
    raw: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const isJson = contentType === 'application/json';
    let args: Args;
    try {
      args = { ...Object.fromEntries(url.searchParams), ...parseArgs(raw, isJson) };
    } catch {
      this.answerApi(res, method, {}, 200, { ok: false, error: 'invalid_json' });
      return;
    }
    const bodyToken = typeof args.token === 'string' ? args.token : undefined;
    delete args.token;

    const injected = this.takeInjectedError(method);
    if (injected) {
      const status = injected.status ?? 429;
      if (status === 429) {
        const retryAfter = String(injected.retryAfterSeconds ?? 1);
        this.answerApi(res, method, args, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': retryAfter });
      } else {
        this.answerApi(res, method, args, status, { ok: false, error: 'internal_error' });
      }
      return;
    }

    // Slack takes the token from the Authorization header, or from the form body; never from a JSON body, and
    // apps.connections.open only from the header.
    const header = req.headers.authorization;
    const headerToken = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    const token = headerToken ?? (isJson || method === 'apps.connections.open' ? undefined : bodyToken);
    if (token === undefined || token === '') {
      this.answerApi(res, method, args, 200, { ok: false, error: 'not_authed' });
      return;
    }
    if (token !== this.botToken && token !== this.appToken) {
      this.answerApi(res, method, args, 200, { ok: false, error: 'invalid_auth' });
      return;
    }
    // The app-level token opens Socket Mode connections and does nothing else; the bot token cannot open them.
    if ((method === 'apps.connections.open') !== (token === this.appToken)) {
      this.answerApi(res, method, args, 200, { ok: false, error: 'not_allowed_token_type' });
      return;
    }

    const handler = this.handlers[method];
    if (!handler) {
      this.answerApi(res, method, args, 404, { ok: false, error: 'unknown_method', req_method: method });
      return;
    }
    try {
      const result = handler(args);
      this.answerApi(res, method, args, 200, { ok: true, ...result });
    } catch (error) {
      if (!(error instanceof SlackApiError)) throw error;
      this.answerApi(res, method, args, 200, { ok: false, error: error.code, ...error.extra });
    }
  }

  private answerApi(
    res: ServerResponse,
    method: string,
    args: Args,
    status: number,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): void {
    const ok = body.ok === true;
    const call: SimCall = { method, args, at: Date.now(), status, ok };
    if (typeof body.error === 'string') call.error = body.error;
    this.calls.push(call);
    send(res, status, body, headers);
  }

  private takeInjectedError(method: string): SimErrorSpec | undefined {
    const index = this.errorQueue.findIndex(
      (s) => s.count > 0 && (s.method === method || (s.method === '*' && method !== 'response_url')),
    );
    const spec = this.errorQueue[index];
    if (!spec) return undefined;
    spec.count -= 1;
    if (spec.count <= 0) this.errorQueue.splice(index, 1);
    return spec;
  }

  // ---------------------------------------------------------------- response_url

  private handleResponseUrl(url: URL, raw: string, req: IncomingMessage, res: ServerResponse): void {
    const injected = this.takeInjectedError('response_url');
    if (injected) {
      const status = injected.status ?? 429;
      const headers: Record<string, string> =
        status === 429 ? { 'retry-after': String(injected.retryAfterSeconds ?? 1) } : {};
      send(res, status, { ok: false, error: status === 429 ? 'ratelimited' : 'internal_error' }, headers);
      return;
    }
    const id = url.pathname.slice('/response/'.length);
    const state = this.responseUrls.get(id);
    if (!state || state.uses >= RESPONSE_URL_MAX_USES) {
      send(res, 404, { ok: false, error: state ? 'used_url' : 'expired_url' });
      return;
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!isRecord(parsed)) throw new Error('not an object');
      body = parsed;
    } catch {
      send(res, 400, { ok: false, error: 'invalid_payload' });
      return;
    }
    if (!req.headers['content-type']?.startsWith('application/json')) {
      send(res, 400, { ok: false, error: 'invalid_payload' });
      return;
    }
    const blocks = Array.isArray(body.blocks) ? (body.blocks as unknown[]) : undefined;
    const text = typeof body.text === 'string' ? body.text : undefined;
    if (body.delete_original !== true && text === undefined && blocks === undefined) {
      send(res, 400, { ok: false, error: 'no_text' });
      return;
    }
    state.uses += 1;
    this.responses.push({ url: `${this.url}${url.pathname}`, body, at: Date.now() });
    this.applyResponse(state.source, body, text, blocks);
    send(res, 200, { ok: true });
  }

  private applyResponse(
    source: SimResponseUrlSource,
    body: Record<string, unknown>,
    text: string | undefined,
    blocks: unknown[] | undefined,
  ): void {
    const original = source.messageTs ? this.findAnyMessage(source.channel, source.messageTs) : undefined;
    if (body.delete_original === true) {
      if (original) this.removeMessage(original);
      return;
    }
    if (body.replace_original === true && original) {
      if (text !== undefined) original.text = text;
      if (blocks !== undefined) original.blocks = blocks;
      original.updates += 1;
      return;
    }
    const channel = source.channel ? (this.findChannel(source.channel)?.id ?? source.channel) : '';
    const message = this.newMessage(channel, text, blocks);
    if (body.response_type === 'in_channel' && channel) {
      this.pushChannelMessage(message);
    } else {
      if (source.userId !== undefined) message.ephemeralTo = source.userId;
      this.ephemeralMessages.push(message);
    }
  }

  // ---------------------------------------------------------------- Web API methods

  private authTest(): Record<string, unknown> {
    return {
      url: 'https://sim.slack.com/',
      team: 'Simulated Workspace',
      user: 'rapid-rollback',
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: BOT_ID,
      is_enterprise_install: false,
    };
  }

  private postMessage(a: Args): Record<string, unknown> {
    const channel = this.memberChannel(a.channel);
    const { text, blocks } = messageContent(a);
    let threadTs: string | undefined;
    if (a.thread_ts !== undefined && a.thread_ts !== '') {
      const parent = this.findAnyMessage(channel.id, String(a.thread_ts));
      // Slack does not reliably reject an unknown thread_ts; failing here catches a reply that
      // would otherwise land outside the incident thread.
      if (!parent || parent.ephemeralTo !== undefined) throw new SlackApiError('thread_not_found');
      threadTs = parent.threadTs ?? parent.ts;
    }
    const message = this.newMessage(channel.id, text, blocks);
    if (threadTs !== undefined) message.threadTs = threadTs;
    this.pushChannelMessage(message);
    return { channel: channel.id, ts: message.ts, message: this.messageObject(message) };
  }

  private update(a: Args): Record<string, unknown> {
    const channel = this.visibleChannel(a.channel);
    const message = this.channelMessages.get(channel.id)?.find((m) => m.ts === String(a.ts ?? ''));
    if (!message) throw new SlackApiError('message_not_found');
    const { text, blocks } = messageContent(a);
    // As in Slack: blocks left out are kept, an empty array removes them.
    if (text !== undefined) message.text = text;
    if (blocks !== undefined) message.blocks = blocks;
    message.updates += 1;
    return { channel: channel.id, ts: message.ts, text: message.text ?? '', message: this.messageObject(message) };
  }

  private postEphemeral(a: Args): Record<string, unknown> {
    const channel = this.memberChannel(a.channel);
    if (typeof a.user !== 'string' || a.user === '') throw new SlackApiError('user_not_found');
    const { text, blocks } = messageContent(a);
    const message = this.newMessage(channel.id, text, blocks);
    message.ephemeralTo = a.user;
    if (typeof a.thread_ts === 'string' && a.thread_ts !== '') message.threadTs = a.thread_ts;
    this.ephemeralMessages.push(message);
    return { message_ts: message.ts };
  }

  /** views.open: a modal for the person whose interaction gave the trigger_id, once, within 3 s of it. */
  private openView(a: Args): Record<string, unknown> {
    const trigger = this.triggers.get(String(a.trigger_id ?? ''));
    if (!trigger || trigger.used) throw new SlackApiError('invalid_trigger_id');
    if (Date.now() - trigger.at > 3_000) throw new SlackApiError('expired_trigger_id');
    if (!isRecord(a.view)) throw new SlackApiError('invalid_arguments');
    const view = this.checkedView(a.view);
    trigger.used = true;
    const id = `V${String(this.views.size + 1).padStart(9, '0')}`;
    const held = {
      ...view,
      id,
      team_id: this.teamId,
      state: { values: {} },
      hash: `${Date.now()}.sim`,
      bot_id: BOT_ID,
    };
    this.views.set(id, { id, user: trigger.user, view: held, open: true });
    return { view: held };
  }

  /** What Slack refuses in a modal: another type, a title or button text over 24 characters, inputs without submit. */
  private checkedView(view: Record<string, unknown>): Record<string, unknown> {
    const short = (field: unknown) =>
      isRecord(field) && field.type === 'plain_text' && typeof field.text === 'string' && field.text.length <= 24;
    const blocks = view.blocks;
    if (view.type !== 'modal' || !short(view.title) || !Array.isArray(blocks) || blocks.length > 100)
      throw new SlackApiError('invalid_arguments');
    const hasInput = blocks.some((b) => isRecord(b) && b.type === 'input');
    if ((hasInput && !short(view.submit)) || (view.close !== undefined && !short(view.close)))
      throw new SlackApiError('invalid_arguments');
    if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000)
      throw new SlackApiError('invalid_arguments');
    return view;
  }

  private userGroupUsers(a: Args): Record<string, unknown> {
    const users = this.userGroups.get(String(a.usergroup ?? ''));
    if (!users) throw new SlackApiError('no_such_subteam');
    return { users: [...users] };
  }

  private join(a: Args): Record<string, unknown> {
    const channel = this.findChannel(a.channel);
    if (!channel) throw new SlackApiError('channel_not_found');
    if (channel.isPrivate) throw new SlackApiError('method_not_supported_for_channel_type');
    if (channel.botIsMember) {
      return {
        channel: this.channelObject(channel),
        warning: 'already_in_channel',
        response_metadata: { warnings: ['already_in_channel'] },
      };
    }
    channel.botIsMember = true;
    return { channel: this.channelObject(channel) };
  }

  // ---------------------------------------------------------------- model helpers

  private findChannel(ref: unknown): SimChannel | undefined {
    if (typeof ref !== 'string' || ref === '') return undefined;
    const byId = this.channels.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('#') ? ref.slice(1) : ref;
    return [...this.channels.values()].find((c) => c.name === name);
  }

  /** A private channel the bot is not in does not exist as far as the bot can tell. */
  private visibleChannel(ref: unknown): SimChannel {
    const channel = this.findChannel(ref);
    if (!channel || (channel.isPrivate && !channel.botIsMember)) throw new SlackApiError('channel_not_found');
    return channel;
  }

  private memberChannel(ref: unknown): SimChannel {
    const channel = this.visibleChannel(ref);
    if (!channel.botIsMember) throw new SlackApiError('not_in_channel');
    return channel;
  }

  private findAnyMessage(channel: string | undefined, ts: string): SimMessage | undefined {
    const channelId = channel === undefined ? undefined : (this.findChannel(channel)?.id ?? channel);
    const pools =
      channelId === undefined ? [...this.channelMessages.values()] : [this.channelMessages.get(channelId) ?? []];
    for (const pool of pools) {
      const found = pool.find((m) => m.ts === ts);
      if (found) return found;
    }
    return this.ephemeralMessages.find((m) => m.ts === ts && (channelId === undefined || m.channel === channelId));
  }

  private removeMessage(message: SimMessage): void {
    for (const pool of [this.channelMessages.get(message.channel) ?? [], this.ephemeralMessages]) {
      const index = pool.indexOf(message);
      if (index >= 0) pool.splice(index, 1);
    }
  }

  private newMessage(channel: string, text: string | undefined, blocks: unknown[] | undefined): SimMessage {
    const message: SimMessage = { channel, ts: this.nextTs(), user: this.botUserId, updates: 0 };
    if (text !== undefined) message.text = text;
    if (blocks !== undefined) message.blocks = blocks;
    return message;
  }

  private pushChannelMessage(message: SimMessage): void {
    const pool = this.channelMessages.get(message.channel) ?? [];
    pool.push(message);
    this.channelMessages.set(message.channel, pool);
  }

  /** Slack's ts: seconds, a dot, six digits; unique and increasing within a channel. */
  private nextTs(): string {
    this.tsSeq += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsSeq % 1_000_000).padStart(6, '0')}`;
  }

  private messageObject(m: SimMessage): Record<string, unknown> {
    return {
      type: 'message',
      user: m.user,
      bot_id: BOT_ID,
      team: this.teamId,
      ts: m.ts,
      text: m.text ?? '',
      ...(m.blocks ? { blocks: m.blocks } : {}),
      ...(m.threadTs ? { thread_ts: m.threadTs, parent_user_id: m.user } : {}),
    };
  }

  private channelObject(c: SimChannel): Record<string, unknown> {
    return {
      id: c.id,
      name: c.name,
      name_normalized: c.name,
      is_channel: true,
      is_group: false,
      is_im: false,
      is_private: c.isPrivate,
      is_archived: false,
      is_general: false,
      is_member: c.botIsMember,
      created: c.created,
    };
  }

  private describeTimeout(timeoutMs: number, lastError: unknown): string {
    const recentCalls = this.calls
      .slice(-15)
      .map((c) => `  ${c.method} -> ${c.status} ${c.ok ? 'ok' : c.error} ${JSON.stringify(c.args).slice(0, 200)}`);
    const recentResponses = this.responses.slice(-5).map((r) => `  ${r.url} ${JSON.stringify(r.body).slice(0, 200)}`);
    return [
      `SlackSimulator.waitFor: condition not met within ${timeoutMs} ms.`,
      lastError === undefined
        ? ''
        : `Last predicate error: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
      `Recent Web API calls (${this.calls.length} in all):`,
      ...(recentCalls.length ? recentCalls : ['  (none)']),
      `Recent response_url posts (${this.responses.length} in all):`,
      ...(recentResponses.length ? recentResponses : ['  (none)']),
    ]
      .filter((line) => line !== '')
      .join('\n');
  }
}

/** Everything a person would read in a message: its text plus the text inside its blocks. */
export function textOf(message: { text?: unknown; blocks?: unknown }): string {
  const parts: string[] = [];
  if (typeof message.text === 'string' && message.text !== '') parts.push(message.text);
  collectBlockText(message.blocks, parts);
  return parts.join('\n');
}

// Fields that hold text nobody sees until they click, or machine values rather than words.
const HIDDEN_KEYS = new Set(['confirm', 'value', 'url', 'action_id', 'block_id', 'alt_text', 'image_url']);

function collectBlockText(node: unknown, parts: string[]): void {
  if (Array.isArray(node)) {
    for (const child of node) collectBlockText(child, parts);
    return;
  }
  if (!isRecord(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (HIDDEN_KEYS.has(key)) continue;
    if (key === 'text' && typeof value === 'string') {
      if (value !== '') parts.push(value);
    } else {
      collectBlockText(value, parts);
    }
  }
}

const MESSAGE_TEXT_LIMIT = 40_000;
const SECTION_TEXT_LIMIT = 3_000;

function messageContent(a: Args): { text: string | undefined; blocks: unknown[] | undefined } {
  const text = typeof a.text === 'string' ? a.text : undefined;
  let blocks: unknown[] | undefined;
  if (a.blocks !== undefined) {
    if (!Array.isArray(a.blocks)) throw new SlackApiError('invalid_blocks_format');
    blocks = a.blocks;
  }
  // Slack's documented limits: a message's text (chat.postMessage's msg_too_long), a section's text.
  if (text !== undefined && text.length > MESSAGE_TEXT_LIMIT) throw new SlackApiError('msg_too_long');
  const sectionTexts = (blocks ?? []).map((b) => (b as { type?: string; text?: { text?: unknown } }).text?.text);
  if (sectionTexts.some((t) => typeof t === 'string' && t.length > SECTION_TEXT_LIMIT)) {
    throw new SlackApiError('invalid_blocks');
  }
  const hasAttachments = a.attachments !== undefined;
  if ((text === undefined || text === '') && (blocks === undefined || blocks.length === 0) && !hasAttachments) {
    throw new SlackApiError('no_text');
  }
  return { text, blocks };
}

/** Form values are strings; Slack decodes the JSON-valued ones (blocks, attachments) itself. */
function parseArgs(raw: string, isJson: boolean): Args {
  if (raw === '') return {};
  if (isJson) {
    const parsed: unknown = JSON.parse(raw);
    if (!isRecord(parsed)) throw new Error('JSON body is not an object');
    return parsed;
  }
  const args: Args = Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['blocks', 'attachments', 'view']) {
    const value = args[key];
    if (typeof value === 'string') {
      try {
        args[key] = JSON.parse(value);
      } catch {
        // left as a string: messageContent answers invalid_blocks_format, as Slack does
      }
    }
  }
  return args;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
