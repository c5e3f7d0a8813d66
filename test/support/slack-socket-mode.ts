import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

/**
 * Slack's Socket Mode, for the Slack simulator: `apps.connections.open` hands out single-use WebSocket URLs,
 * a connection is greeted with `hello`, payloads arrive in envelopes that the app acknowledges by
 * `envelope_id`, and Slack may ask the app to reconnect (`disconnect`) or simply lose the connection.
 *
 * Modelled as Slack (and @slack/socket-mode, which is built against it) behave:
 * - a ticket is good for one connection; an unknown or used one is refused during the upgrade (HTTP 401: the
 *   status Slack uses there is not documented);
 * - `hello` carries `num_connections`, `debug_info` and `connection_info.app_id`;
 * - the server answers pings with pongs (the client pings every few seconds and reconnects without pongs) and
 *   pings the client itself;
 * - envelopes are spread over the open connections; one that finds no open connection waits for the next one,
 *   and one not acknowledged within `ackTimeoutMs` (Slack: 3 s) is delivered again; either way the next delivery
 *   has `retry_attempt` one higher and `retry_reason: "timeout"`, up to `maxRetries` times;
 * - `disconnect` (`refresh_requested`, `warning`, `too_many_websockets`) asks the app to reconnect: nothing new is
 *   sent on that connection, and Slack closes it itself if the app has not within `disconnectGraceMs`;
 * - a dropped connection ends without a close frame, as a network failure does.
 *
 * Not modelled: ticket expiry, `events_api` payloads beyond the envelope, the 10-connection limit, rate limits.
 */

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';
export type DisconnectReason = 'refresh_requested' | 'warning' | 'too_many_websockets' | 'link_disabled';

/** An envelope exactly as it goes over the socket, fields in Slack's order. */
interface SocketEnvelope {
  envelope_id: string;
  payload: Record<string, unknown>;
  type: EnvelopeType;
  accepts_response_payload: boolean;
  retry_attempt: number;
  retry_reason: string;
}

export interface SocketConnectionRecord {
  /** 1, 2, … in the order the app connected */
  id: number;
  openedAt: number;
  closedAt?: number;
  /** `client`: the app closed it (close frame); `server`: Slack closed it; `dropped`: ended with no close frame */
  endedBy?: 'client' | 'server' | 'dropped';
  /** the `disconnect` message sent on it, if any */
  disconnect?: DisconnectReason;
  /** pongs received, in answer to the server's pings */
  pongs: number;
}

export interface SocketDelivery {
  envelope: SocketEnvelope;
  connection: number;
  at: number;
}

export interface SocketAck {
  envelopeId: string;
  connection: number;
  /** the ack's `payload`, as sent (also when the envelope does not accept one: Slack then ignores it) */
  payload: Record<string, unknown> | undefined;
  at: number;
  /** the envelope was acknowledged already: a second ack is ignored */
  duplicate: boolean;
  /** no envelope with this id is known */
  unknown: boolean;
}

export interface SocketDeliveryResult {
  envelopeId: string;
  /** the response payload of the ack; undefined when the envelope does not accept one */
  payload: Record<string, unknown> | undefined;
  /** `retry_attempt` of the delivery that was acknowledged */
  retryAttempt: number;
  /** the connection the ack came on */
  connection: number;
  /** from the call to the ack */
  ms: number;
}

export interface SocketModeOptions {
  appToken?: string;
  appId?: string;
  /** Slack gives an app 3 s to acknowledge an envelope */
  ackTimeoutMs?: number;
  /** how many times an envelope is delivered again at most; default 3, as the Events API */
  maxRetries?: number;
  /** how often the server pings each connection; default 10 s (@slack/socket-mode gives up after 30 s without) */
  pingIntervalMs?: number;
  /** how long a connection that was sent `disconnect` stays open if the app does not close it; default 10 s */
  disconnectGraceMs?: number;
}

export interface DeliverOptions {
  /** reject when no ack has come by then; default 10 s */
  timeoutMs?: number;
  /** default: true for slash commands, false for `interactive` block_actions (true for view_submission) */
  acceptsResponsePayload?: boolean;
}

interface LiveConnection {
  record: SocketConnectionRecord;
  ws: WebSocket;
  /** told to disconnect: nothing new is sent on it */
  draining: boolean;
  timers: NodeJS.Timeout[];
}

interface Pending {
  id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  acceptsResponsePayload: boolean;
  attempt: number;
  reason: string;
  started: number;
  acked: boolean;
  /** the connection it is waiting for an ack on */
  inFlight?: number;
  ackTimer?: NodeJS.Timeout;
  deadline?: NodeJS.Timeout;
  resolve: (result: SocketDeliveryResult) => void;
  reject: (error: Error) => void;
}

const BUILD_NUMBER = 118;

export class SocketModeSimulator {
  readonly appToken: string;
  readonly appId: string;
  readonly connections: SocketConnectionRecord[] = [];
  readonly deliveries: SocketDelivery[] = [];
  readonly acks: SocketAck[] = [];

  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly live = new Map<number, LiveConnection>();
  private readonly pending = new Map<string, Pending>();
  /** envelopes waiting for an open connection, oldest first */
  private readonly queue: Pending[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly ackTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly pingIntervalMs: number;
  private readonly disconnectGraceMs: number;
  private nextConnection = 0;
  private roundRobin = 0;
  private closed = false;

  constructor(
    private readonly baseUrl: string,
    options: SocketModeOptions = {},
  ) {
    this.appToken = options.appToken ?? 'xapp-1-A0SIM-1-sim-app-token';
    this.appId = options.appId ?? 'A0SIM';
    this.ackTimeoutMs = options.ackTimeoutMs ?? 3_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.pingIntervalMs = options.pingIntervalMs ?? 10_000;
    this.disconnectGraceMs = options.disconnectGraceMs ?? 10_000;
  }

  /** `apps.connections.open`: a fresh single-use URL (the token was checked by the Web API). */
  open(): { url: string } {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    const ws = this.baseUrl.replace(/^http/, 'ws');
    return { url: `${ws}/link/?ticket=${ticket}&app_id=${this.appId}` };
  }

  /** Connections that have been greeted and were not asked to go: where an envelope can be sent now. */
  get openConnections(): number {
    return [...this.live.values()].filter((c) => this.usable(c)).length;
  }

  /** Envelopes waiting for a connection. */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves once a connection is open (at once if one is). */
  waitForConnection(timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.openConnections > 0, `an open Socket Mode connection`, timeoutMs);
  }

  /** Resolves once no connection is open: an app told to reconnect has closed its old one. */
  waitForNoConnection(timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.live.size === 0, `every Socket Mode connection to close`, timeoutMs);
  }

  /**
   * Sends a payload in an envelope and resolves with the ack. With no open connection the envelope waits for
   * one; unacknowledged, it is delivered again (see the class comment). Rejects after `timeoutMs` without an ack.
   */
  deliver(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    options: DeliverOptions = {},
  ): Promise<SocketDeliveryResult> {
    if (this.closed) return Promise.reject(new Error('Socket Mode simulator is closed'));
    const acceptsResponsePayload =
      options.acceptsResponsePayload ??
      (type === 'slash_commands' || (type === 'interactive' && payload.type === 'view_submission'));
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise<SocketDeliveryResult>((resolve, reject) => {
      const p: Pending = {
        id: randomUUID(),
        type,
        payload,
        acceptsResponsePayload,
        attempt: 0,
        reason: '',
        started: performance.now(),
        acked: false,
        resolve,
        reject,
      };
      p.deadline = setTimeout(() => {
        this.abandon(p);
        reject(
          new Error(
            `no ack for ${type} envelope ${p.id} within ${timeoutMs} ms (${this.deliveries.filter((d) => d.envelope.envelope_id === p.id).length} deliveries, ${this.openConnections} open connections)`,
          ),
        );
      }, timeoutMs);
      this.pending.set(p.id, p);
      this.dispatch(p);
    });
  }

  /** Deliveries of one envelope, in order. */
  deliveriesOf(envelopeId: string): SocketDelivery[] {
    return this.deliveries.filter((d) => d.envelope.envelope_id === envelopeId);
  }

  /** Sends `disconnect` on every open connection (or one), as Slack does before it recycles a connection. */
  disconnect(reason: DisconnectReason = 'refresh_requested', connection?: number): void {
    for (const c of this.live.values()) {
      if (connection !== undefined && c.record.id !== connection) continue;
      if (c.draining) continue;
      c.draining = true;
      c.record.disconnect = reason;
      c.ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: host(c.record.id) } }));
      c.timers.push(
        setTimeout(() => {
          if (c.ws.readyState === WebSocket.OPEN) {
            c.record.endedBy ??= 'server';
            c.ws.close(1001, 'going away');
          }
        }, this.disconnectGraceMs).unref(),
      );
    }
  }

  /** Ends every open connection (or one) without a close frame: a lost network, a restarted load balancer. */
  drop(connection?: number): void {
    for (const c of this.live.values()) {
      if (connection !== undefined && c.record.id !== connection) continue;
      c.record.endedBy ??= 'dropped';
      c.ws.terminate();
    }
  }

  /** The WebSocket upgrade of the simulator's HTTP server. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const ticket = url.searchParams.get('ticket') ?? '';
    if (this.closed || url.pathname !== '/link/' || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) this.abandon(p);
    this.queue.length = 0;
    for (const c of this.live.values()) {
      for (const timer of c.timers) clearTimeout(timer);
      c.ws.terminate();
    }
    this.live.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  // ---------------------------------------------------------------- connections

  private accept(ws: WebSocket): void {
    this.nextConnection += 1;
    const record: SocketConnectionRecord = { id: this.nextConnection, openedAt: Date.now(), pongs: 0 };
    this.connections.push(record);
    const c: LiveConnection = { record, ws, draining: false, timers: [] };
    this.live.set(record.id, c);
    ws.on('message', (data, isBinary) => this.receive(c, data, isBinary));
    ws.on('pong', () => {
      record.pongs += 1;
    });
    ws.on('close', () => this.closedConnection(c));
    // A reset by the peer is a closed connection like any other; 'close' follows.
    ws.on('error', () => undefined);
    c.timers.push(setInterval(() => ws.ping(), this.pingIntervalMs).unref());
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.live.size,
        debug_info: { host: host(record.id), build_number: BUILD_NUMBER, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
    this.notify();
    // Envelopes that found no connection go out now, oldest first.
    for (const p of this.queue.splice(0)) this.dispatch(p);
  }

  private closedConnection(c: LiveConnection): void {
    for (const timer of c.timers) clearTimeout(timer);
    c.record.closedAt = Date.now();
    c.record.endedBy ??= 'client';
    this.live.delete(c.record.id);
    this.notify();
  }

  private usable(c: LiveConnection): boolean {
    return !c.draining && c.ws.readyState === WebSocket.OPEN;
  }

  private receive(c: LiveConnection, data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      return;
    }
    if (!isRecord(message) || typeof message.envelope_id !== 'string') return;
    const p = this.pending.get(message.envelope_id);
    const payload = isRecord(message.payload) ? message.payload : undefined;
    const known = p !== undefined || this.deliveries.some((d) => d.envelope.envelope_id === message.envelope_id);
    this.acks.push({
      envelopeId: message.envelope_id,
      connection: c.record.id,
      payload,
      at: Date.now(),
      duplicate: known && p === undefined,
      unknown: !known,
    });
    if (!p) return;
    this.pending.delete(p.id);
    p.acked = true;
    clearTimeout(p.ackTimer);
    clearTimeout(p.deadline);
    p.resolve({
      envelopeId: p.id,
      payload: p.acceptsResponsePayload ? payload : undefined,
      retryAttempt: p.attempt,
      connection: c.record.id,
      ms: performance.now() - p.started,
    });
  }

  // ---------------------------------------------------------------- envelopes

  private dispatch(p: Pending): void {
    if (p.acked || this.closed) return;
    const open = [...this.live.values()].filter((c) => this.usable(c));
    if (open.length === 0) {
      // This attempt found nobody: the next delivery is a retry.
      if (!this.queue.includes(p)) {
        if (!this.retry(p)) return;
        this.queue.push(p);
      }
      return;
    }
    this.roundRobin = (this.roundRobin + 1) % open.length;
    const c = open[this.roundRobin] as LiveConnection;
    const envelope: SocketEnvelope = {
      envelope_id: p.id,
      payload: p.payload,
      type: p.type,
      accepts_response_payload: p.acceptsResponsePayload,
      retry_attempt: p.attempt,
      retry_reason: p.reason,
    };
    c.ws.send(JSON.stringify(envelope));
    this.deliveries.push({ envelope, connection: c.record.id, at: Date.now() });
    p.inFlight = c.record.id;
    p.ackTimer = setTimeout(() => {
      p.inFlight = undefined;
      if (this.retry(p)) this.dispatch(p);
    }, this.ackTimeoutMs);
  }

  /** Counts one more attempt; false (and the envelope is given up) once `maxRetries` is spent. */
  private retry(p: Pending): boolean {
    if (p.attempt >= this.maxRetries) {
      this.abandon(p);
      p.reject(new Error(`${p.type} envelope ${p.id} not acknowledged after ${p.attempt + 1} attempts`));
      return false;
    }
    p.attempt += 1;
    p.reason = 'timeout';
    return true;
  }

  private abandon(p: Pending): void {
    clearTimeout(p.ackTimer);
    clearTimeout(p.deadline);
    this.pending.delete(p.id);
    const index = this.queue.indexOf(p);
    if (index >= 0) this.queue.splice(index, 1);
  }

  private until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * The payload of an envelope from the body the HTTP receiver would get: a slash command's form fields as an
 * object, or the JSON in an interaction's `payload=` field.
 */
export function payloadFromForm(body: string): Record<string, unknown> {
  const form = new URLSearchParams(body);
  const json = form.get('payload');
  if (json !== null) {
    const parsed: unknown = JSON.parse(json);
    if (!isRecord(parsed)) throw new Error('payload is not a JSON object');
    return parsed;
  }
  return Object.fromEntries(form);
}

function host(connection: number): string {
  return `applink-sim-${connection}`;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
