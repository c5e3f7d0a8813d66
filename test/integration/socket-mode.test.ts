import { type Logger, LogLevel, SocketModeClient } from '@slack/socket-mode';
import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { APPROVE_ACTION } from '../../src/slack/blocks/request-blocks.js';
import { CDN_SERVICE, CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { blockAction, slashCommand } from '../support/slack-payloads.js';
import { SlackSimulator, textOf } from '../support/slack-simulator.js';
import { payloadFromForm, type SocketDelivery } from '../support/slack-socket-mode.js';
import { waitUntil } from '../support/wait.js';

/** @slack/socket-mode logs refused tokens at error level; these tests expect them. */
const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

interface Seen {
  type: string;
  envelopeId: string;
  body: Record<string, unknown>;
  retryNum: number | undefined;
  retryReason: string | undefined;
  acceptsResponsePayload: boolean;
}

describe("the simulator's Socket Mode, driven by @slack/socket-mode's own SocketModeClient", () => {
  let sim: SlackSimulator;
  let client: SocketModeClient | undefined;
  /** The raw text of every WebSocket message the client received. */
  let raw: string[];
  let seen: Seen[];

  beforeEach(async () => {
    sim = await SlackSimulator.start({ socketMode: { pingIntervalMs: 100 } });
    raw = [];
    seen = [];
  });
  afterEach(async () => {
    await client?.disconnect();
    client = undefined;
    await sim.close();
  });

  /**
   * A client as an app builds one. `clientPingTimeout` also sets how long it waits before it reconnects
   * (5 s by default); 500 ms keeps these tests short.
   */
  function connectClient(ack: (event: Seen) => Record<string, unknown> | undefined = () => undefined) {
    const c = new SocketModeClient({
      appToken: sim.appToken,
      clientOptions: { slackApiUrl: sim.apiUrl },
      logger: silent,
      clientPingTimeout: 500,
    });
    c.on('ws_message', (data: unknown) => raw.push(typeof data === 'string' ? data : String(data)));
    c.on(
      'slack_event',
      async (event: {
        ack: (response?: Record<string, unknown>) => Promise<void>;
        envelope_id: string;
        type: string;
        body: Record<string, unknown>;
        retry_num?: number;
        retry_reason?: string;
        accepts_response_payload: boolean;
      }) => {
        const s: Seen = {
          type: event.type,
          envelopeId: event.envelope_id,
          body: event.body,
          retryNum: event.retry_num,
          retryReason: event.retry_reason,
          acceptsResponsePayload: event.accepts_response_payload,
        };
        seen.push(s);
        const response = ack(s);
        // undefined: this test does not acknowledge (yet)
        if (response !== undefined) await event.ack(response);
      },
    );
    client = c;
    return c;
  }

  const connectedCount = () => raw.filter((m) => JSON.parse(m).type === 'hello').length;
  const command = (text: string) =>
    payloadFromForm(slashCommand({ text, responseUrl: sim.newResponseUrl({ channel: 'CCMD', userId: 'UREQ' }) }));

  it('connects through apps.connections.open and hello, answers pings, and acknowledges a slash command with a response payload', async () => {
    const c = connectClient(() => ({ response_type: 'ephemeral', text: 'on it' }));
    const opened = await c.start();
    expect(opened).toMatchObject({ ok: true });
    expect(opened.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f-]{36}&app_id=A0SIM$/);
    expect(sim.callsTo('apps.connections.open')).toEqual([expect.objectContaining({ status: 200, ok: true })]);

    const hello = JSON.parse(raw[0] ?? '{}');
    expect(hello).toEqual({
      type: 'hello',
      num_connections: 1,
      debug_info: { host: expect.any(String), build_number: expect.any(Number), approximate_connection_time: 18060 },
      connection_info: { app_id: 'A0SIM' },
    });
    // The client answers the server's pings (and its own pings are answered, or it would have reconnected).
    await waitUntil('pongs from the client', () => (sim.socketMode.connections[0]?.pongs ?? 0) >= 2);

    const payload = command('cdn elevated 5xx');
    const ack = await sim.socketMode.deliver('slash_commands', payload);
    expect(ack).toMatchObject({
      payload: { response_type: 'ephemeral', text: 'on it' },
      retryAttempt: 0,
      connection: 1,
    });

    const envelope = JSON.parse(raw.at(-1) ?? '{}');
    expect(Object.keys(envelope)).toEqual([
      'envelope_id',
      'payload',
      'type',
      'accepts_response_payload',
      'retry_attempt',
      'retry_reason',
    ]);
    expect(envelope).toMatchObject({
      envelope_id: ack.envelopeId,
      type: 'slash_commands',
      accepts_response_payload: true,
      retry_attempt: 0,
      retry_reason: '',
    });
    expect(envelope.payload).toEqual(payload);
    expect(envelope.payload).toMatchObject({ command: '/rollback', text: 'cdn elevated 5xx', user_id: 'UREQ' });
    expect(seen).toEqual([
      expect.objectContaining({ type: 'slash_commands', envelopeId: ack.envelopeId, acceptsResponsePayload: true }),
    ]);
    // What went back over the socket is what the simulator recorded.
    expect(sim.socketMode.acks).toEqual([
      expect.objectContaining({
        envelopeId: ack.envelopeId,
        connection: 1,
        payload: { response_type: 'ephemeral', text: 'on it' },
        duplicate: false,
        unknown: false,
      }),
    ]);
  });

  it('sends a button click as an interactive envelope that accepts no response payload', async () => {
    await connectClient(() => ({})).start();
    const click = payloadFromForm(
      blockAction({
        actionId: APPROVE_ACTION,
        value: 'rb-1',
        userId: 'UAPP',
        channelId: 'CCMD',
        messageTs: '1.000001',
        responseUrl: sim.newResponseUrl(),
      }),
    );
    const ack = await sim.socketMode.deliver('interactive', click);
    expect(ack.payload).toBeUndefined();
    expect(JSON.parse(raw.at(-1) ?? '{}')).toMatchObject({
      type: 'interactive',
      accepts_response_payload: false,
      payload: { type: 'block_actions', actions: [{ action_id: APPROVE_ACTION, value: 'rb-1' }] },
    });
    expect(seen.map((s) => [s.type, s.body.type])).toEqual([['interactive', 'block_actions']]);
  });

  for (const reason of ['refresh_requested', 'warning'] as const) {
    it(`disconnect (${reason}): the client closes, reconnects by itself with a new ticket, and gets what was sent meanwhile, once`, async () => {
      const c = connectClient(() => ({}));
      await c.start();
      const reconnected = new Promise<void>((resolve) => c.once('reconnecting', () => c.once('connected', resolve)));

      sim.socketMode.disconnect(reason);
      await sim.socketMode.waitForNoConnection();
      // The app closed it (a close frame), before Slack's grace period was up.
      expect(sim.socketMode.connections[0]).toMatchObject({ disconnect: reason, endedBy: 'client' });
      expect(JSON.parse(raw.at(-1) ?? '{}')).toEqual({
        type: 'disconnect',
        reason,
        debug_info: { host: expect.any(String) },
      });
      expect(seen).toEqual([]);

      // Sent while the client is away: it waits for the next connection, and arrives as a retry.
      const ack = await sim.socketMode.deliver('slash_commands', command('cdn'));
      await reconnected;
      expect(ack).toMatchObject({ retryAttempt: 1, connection: 2 });
      expect(seen).toEqual([
        expect.objectContaining({ envelopeId: ack.envelopeId, retryNum: 1, retryReason: 'timeout' }),
      ]);
      expect(sim.socketMode.deliveriesOf(ack.envelopeId)).toHaveLength(1);
      expect(sim.callsTo('apps.connections.open')).toHaveLength(2);
      expect(connectedCount()).toBe(2);
      expect(sim.socketMode.openConnections).toBe(1);
    });
  }

  it('a dropped connection (no close frame): the client notices and reconnects', async () => {
    const c = connectClient(() => ({}));
    await c.start();
    const reconnected = new Promise<void>((resolve) => c.once('reconnecting', () => c.once('connected', resolve)));
    sim.socketMode.drop();
    await reconnected;
    expect(sim.socketMode.connections.map((r) => r.endedBy)).toEqual(['dropped', undefined]);
    expect(sim.callsTo('apps.connections.open')).toHaveLength(2);
    const ack = await sim.socketMode.deliver('slash_commands', command('cdn'));
    expect(ack).toMatchObject({ retryAttempt: 0, connection: 2 });
  });

  it('delivers an envelope again, as a retry, when it is not acknowledged in time', async () => {
    await sim.close();
    sim = await SlackSimulator.start({ socketMode: { ackTimeoutMs: 300 } });
    // The first delivery goes unanswered, as if the app were stuck.
    await connectClient((event) => (event.retryNum ? {} : undefined)).start();
    const ack = await sim.socketMode.deliver('slash_commands', command('cdn'));
    expect(ack.retryAttempt).toBe(1);
    const deliveries = sim.socketMode.deliveriesOf(ack.envelopeId).map((d: SocketDelivery) => d.envelope);
    expect(deliveries.map((e) => [e.retry_attempt, e.retry_reason])).toEqual([
      [0, ''],
      [1, 'timeout'],
    ]);
    expect(seen.map((s) => s.retryNum)).toEqual([0, 1]);
  });

  it('refuses a wrong app token, the bot token, the app token elsewhere, and a ticket used twice', async () => {
    const stranger = new SocketModeClient({
      appToken: 'xapp-1-A0SIM-1-wrong',
      clientOptions: { slackApiUrl: sim.apiUrl },
      logger: silent,
    });
    await expect(stranger.start()).rejects.toMatchObject({ data: { ok: false, error: 'invalid_auth' } });

    const options = { slackApiUrl: sim.apiUrl, logLevel: LogLevel.ERROR, retryConfig: { retries: 0 } };
    const bot = new WebClient(sim.botToken, options);
    await expect(bot.apps.connections.open({})).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    const app = new WebClient(sim.appToken, options);
    await expect(app.chat.postMessage({ channel: 'CCMD', text: 'hi' })).rejects.toMatchObject({
      data: { error: 'not_allowed_token_type' },
    });
    const { url } = await app.apps.connections.open({});
    expect(sim.socketMode.connections).toEqual([]);

    const first = await openSocket(url ?? '');
    expect(JSON.parse(first.hello)).toMatchObject({ type: 'hello' });
    await expect(openSocket(url ?? '')).rejects.toThrow(/401/);
    first.socket.close();
    expect(sim.socketMode.connections).toHaveLength(1);
  });
});

/** A bare WebSocket to a ticket URL; resolves with its first message. */
function openSocket(url: string): Promise<{ socket: WebSocket; hello: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('message', (data) => resolve({ socket, hello: String(data) }));
    socket.once('error', reject);
  });
}

describe('the bot over Socket Mode', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  const incidentNotices = () =>
    h.slack.messages(CHANNELS.incident).filter((m) => !m.threadTs && /Rolling back/.test(textOf(m)));
  const activateCalls = () => h.fastly.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/activate'));
  const approveDeliveries = () =>
    h.slack.socketMode.deliveries.filter((d) => {
      const payload = d.envelope.payload as { user?: { id?: string }; actions?: Array<{ action_id?: string }> };
      return payload.user?.id === PEOPLE.approver && payload.actions?.[0]?.action_id === APPROVE_ACTION;
    });

  it('plans, refuses a self-approval, rolls back on an approver’s click and reports it in the incident thread', async () => {
    h = await startHarness({ transport: 'socket' });
    expect(h.config.slack.socketMode).toBe(true);
    expect(h.slack.callsTo('apps.connections.open')).toEqual([expect.objectContaining({ ok: true })]);
    // The app's HTTP server runs in Socket Mode too (for the HTTP API), on its own port.
    expect(h.running.port).toBeGreaterThan(0);
    const api = await fetch(`http://127.0.0.1:${h.running.port}/v1/targets/cdn/gate?commit=abc`);
    expect(api.status).toBe(404);
    await api.body?.cancel();

    const command = await h.command('cdn elevated 5xx');
    expect(command.status).toBe(200);
    expect(command.body).toContain('Planning a rollback of `cdn`');
    expect(JSON.parse(command.body)).toMatchObject({ response_type: 'ephemeral' });

    const request = await h.awaitRequest();
    const shown = textOf(request.message);
    expect(shown).toMatch(/Live now:\* \*v42\*/);
    expect(shown).toMatch(/Restore:\* \*v41\*/);
    expect(shown).toContain('elevated 5xx');

    const self = await h.click('approve', request, PEOPLE.requester);
    expect(self.status).toBe(200);
    await h.slack.waitFor(() =>
      h.privateTo(PEOPLE.requester).find((t) => /You asked for this rollback, so someone else must approve it/.test(t)),
    );
    expect(await h.jobState(request.id)).toBe('unknown');
    expect(h.fastly.activations).toHaveLength(0);

    expect((await h.click('approve', request, PEOPLE.approver)).status).toBe(200);
    const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
    expect(notice.text).toBe('Rolling back cdn to v41');
    const final = await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on v41/.test(textOf(m))),
      10_000,
    );
    expect(textOf(final)).toMatch(/\d+ ms from approval/);
    expect(await h.jobEnded(request.id)).toBe('completed');
    expect(h.fastly.activations).toEqual([expect.objectContaining({ serviceId: CDN_SERVICE, version: 41 })]);
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf);
    expect(thread.some((t) => /✅ Verify active version: Fastly reports v41 active/.test(t))).toBe(true);

    // Every envelope went once and was acknowledged once; the app stayed on its one connection.
    const { deliveries, acks, connections } = h.slack.socketMode;
    expect(deliveries.map((d) => d.envelope.type)).toEqual(['slash_commands', 'interactive', 'interactive']);
    expect(deliveries.every((d) => d.envelope.retry_attempt === 0)).toBe(true);
    expect(acks.map((a) => a.envelopeId)).toEqual(deliveries.map((d) => d.envelope.envelope_id));
    expect(connections).toHaveLength(1);

    const logs = h.logs.join('');
    for (const secret of [h.slack.botToken, h.slack.appToken, h.fastly.token]) expect(logs).not.toContain(secret);
  });

  for (const how of ['refresh_requested', 'a dropped connection'] as const) {
    it(`takes an approval sent while it reconnects (${how}) once, after the reconnect`, async () => {
      h = await startHarness({ transport: 'socket' });
      await h.command('cdn');
      const request = await h.awaitRequest();

      if (how === 'refresh_requested') h.slack.socketMode.disconnect('refresh_requested');
      else h.slack.socketMode.drop();
      await h.slack.socketMode.waitForNoConnection();
      expect(h.slack.socketMode.connections[0]?.endedBy).toBe(how === 'refresh_requested' ? 'client' : 'dropped');

      // Clicked while the app is away: the click resolves once the reconnected app has acknowledged it.
      const click = h.click('approve', request, PEOPLE.approver);
      await waitUntil('the click to wait for a connection', () => h.slack.socketMode.queued === 1);
      expect(h.slack.socketMode.openConnections).toBe(0);
      expect((await click).status).toBe(200);

      expect(await h.jobEnded(request.id)).toBe('completed');
      expect(h.slack.socketMode.connections.map((c) => c.id)).toEqual([1, 2]);
      expect(h.slack.callsTo('apps.connections.open')).toHaveLength(2);
      const approvals = approveDeliveries();
      expect(approvals).toHaveLength(1);
      expect(approvals[0]).toMatchObject({ connection: 2, envelope: { retry_attempt: 1, retry_reason: 'timeout' } });
      expect(activateCalls()).toHaveLength(1);
      expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);
      expect(incidentNotices().map((m) => m.text)).toEqual(['Rolling back cdn to v41']);
      const notice = incidentNotices()[0]!;
      expect(h.slack.thread(CHANNELS.incident, notice.ts).filter((m) => /back on v41/.test(textOf(m)))).toHaveLength(1);
    });
  }
});
