/**
 * An in-process HTTP simulator of the parts of the Fastly API that rapid-rollback and the official
 * `fastly` CLI use. Shapes follow the real API (the `fastly` npm package's models and
 * fastly.com/documentation/reference/api): plain JSON for services and versions, JSON:API for
 * `/events`, `{ msg, detail }` error bodies, rate-limit headers on every answer.
 *
 * Faithfulness is the point: where a behaviour is uncertain, the simulator does what the real API
 * is documented or observed to do, so that tests passing here say something about production.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultConfig, generatedVcl, type SimConfig, unifiedDiff } from './fastly-config.js';

export interface SimVersionSpec {
  number: number;
  comment?: string;
  locked?: boolean;
  /** Domains, backends, conditions, snippets; default: defaultConfig(number) (fastly-config.ts). */
  config?: SimConfig;
}

export interface SimServiceSpec {
  id: string;
  name: string;
  versions: number | SimVersionSpec[];
  active: number | null;
  /** Oldest first; default: every locked version in order, ending with `active`. */
  activationHistory?: number[];
}

export interface SimRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  startedAt: string;
}

export interface SimFaultSpec {
  status: number;
  count: number;
  match?: (req: { method: string; path: string }) => boolean;
  resetSeconds?: number;
  /** Never answer: to test timeouts. */
  hang?: boolean;
}

interface SimVersion {
  number: number;
  comment: string;
  locked: boolean;
  active: boolean;
  createdAt: string;
  updatedAt: string;
  config: SimConfig;
}

interface SimService {
  id: string;
  name: string;
  publishKey: string;
  createdAt: string;
  updatedAt: string;
  versions: SimVersion[];
  active: number | null;
}

interface SimEvent {
  id: string;
  seq: number;
  eventType: string;
  serviceId: string | null;
  userId: string;
  tokenId: string;
  description: string;
  metadata: Record<string, unknown>;
  createdAt: string;
}

type Reply = { status: number; body: unknown; headers?: Record<string, string>; contentType?: string };

const RATE_LIMIT_PER_HOUR = 1000;
const EVENTS_MAX_PAGE_SIZE = 100;
const EVENTS_DEFAULT_PAGE_SIZE = 20;
const JSON_API = 'application/vnd.api+json';

/** Fastly ids are 22 alphanumeric characters. */
function fastlyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(22), (byte) => alphabet[byte % alphabet.length]).join('');
}

/** The API writes timestamps with second precision: 2016-06-06T20:05:10Z. */
function apiTime(at: number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The html formats: each line in a span whose class says whether it was added, removed or kept. */
function htmlDiff(text: string, full: boolean): string {
  const entities = (l: string) => l.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const kind = (l: string) => (l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : 'ctx');
  const lines = text.split('\n').map((l) => `<span class="${kind(l)}">${entities(l)}</span>`);
  return full ? `<pre class="diff">\n${lines.join('\n')}\n</pre>` : lines.join('<br>');
}

function notFound(detail?: string): Reply {
  return { status: 404, body: detail === undefined ? { msg: 'Not found' } : { msg: 'Record not found', detail } };
}

export class FastlySimulator {
  readonly url: string;
  readonly token: string;
  readonly activations: Array<{ serviceId: string; version: number; at: string }> = [];
  readonly requests: SimRequest[] = [];
  /** Requests that matched no route: what a client asked for that the simulator does not know. */
  readonly unmatched: Array<{ method: string; path: string }> = [];

  private readonly services = new Map<string, SimService>();
  private readonly events: SimEvent[] = [];
  private readonly faults: SimFaultSpec[] = [];
  private readonly customerId = fastlyId();
  private readonly userId = fastlyId();
  private readonly otherUserId = fastlyId();
  private readonly tokenId = fastlyId();
  private readonly pending = new Set<{ timer?: NodeJS.Timeout; res: http.ServerResponse }>();
  private latencyMs: number;
  private eventsForbidden = false;
  private eventSeq = 0;
  private writesThisHour = 0;
  private writesHour = 0;

  private accepted = 0;
  private hungUp = 0;

  private constructor(
    private readonly server: http.Server,
    token: string,
    latencyMs: number,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.token = token;
    this.latencyMs = latencyMs;
  }

  static async start(options: { token?: string; latencyMs?: number } = {}): Promise<FastlySimulator> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const sim = new FastlySimulator(server, options.token ?? 'sim-fastly-token', options.latencyMs ?? 0);
    server.on('request', (req, res) => sim.handle(req, res));
    server.on('connection', (socket) => {
      sim.accepted += 1;
      // Ahead of the HTTP server's own listener, which ends this side in turn: when the client's end comes while
      // this side is still open, the client hung up first (its idle timeout); not this server's keep-alive limit.
      socket.prependOnceListener('end', () => {
        if (!socket.writableEnded) sim.hungUp += 1;
      });
    });
    return sim;
  }

  addService(spec: SimServiceSpec): void {
    if (this.services.has(spec.id)) throw new Error(`simulator: service ${spec.id} already exists`);
    const specs: SimVersionSpec[] =
      typeof spec.versions === 'number'
        ? Array.from({ length: spec.versions }, (_, i) => ({ number: i + 1 }))
        : spec.versions;
    const numbers = new Set(specs.map((v) => v.number));
    if (spec.active !== null && !numbers.has(spec.active)) {
      throw new Error(`simulator: active version ${spec.active} is not among the versions of ${spec.id}`);
    }
    const lockedByDefault = (n: number) => spec.active !== null && n <= spec.active;
    const history = spec.activationHistory ?? [
      ...specs.filter((v) => (v.locked ?? lockedByDefault(v.number)) && v.number !== spec.active).map((v) => v.number),
      ...(spec.active === null ? [] : [spec.active]),
    ];
    for (const n of history) {
      if (!numbers.has(n)) throw new Error(`simulator: activation history of ${spec.id} names unknown version ${n}`);
    }
    if (spec.active !== null && history.at(-1) !== spec.active) {
      throw new Error(`simulator: activation history of ${spec.id} must end with the active version ${spec.active}`);
    }

    // Versions were created an hour apart, activations happened ten minutes apart, all in the past.
    const now = Date.now();
    const created = now - (specs.length + history.length + 1) * 3_600_000;
    const versions: SimVersion[] = specs
      .slice()
      .sort((a, b) => a.number - b.number)
      .map((v, i) => ({
        number: v.number,
        comment: v.comment ?? '',
        // Activation locks a version, whatever the spec says.
        locked: (v.locked ?? lockedByDefault(v.number)) || history.includes(v.number),
        active: v.number === spec.active,
        createdAt: apiTime(created + i * 3_600_000),
        updatedAt: apiTime(created + i * 3_600_000),
        config: v.config ?? defaultConfig(v.number),
      }));
    const service: SimService = {
      id: spec.id,
      name: spec.name,
      publishKey: randomBytes(20).toString('hex'),
      createdAt: apiTime(created),
      updatedAt: apiTime(now - 60_000),
      versions,
      active: spec.active,
    };
    this.services.set(spec.id, service);
    history.forEach((n, i) => {
      const at = now - (history.length - i) * 600_000;
      this.recordEvent(
        service.id,
        'version.activate',
        `Version ${n} was activated`,
        { version_number: n },
        at,
        this.userId,
      );
    });
  }

  /** TCP connections accepted so far: a client that keeps connections alive opens fewer than it sends requests. */
  get connections(): number {
    return this.accepted;
  }

  /** Connections the client closed before this server did: idle connections it let go. */
  get connectionsClosedByClient(): number {
    return this.hungUp;
  }

  activeVersion(serviceId: string): number | null {
    return this.mustService(serviceId).active;
  }

  injectFaults(spec: SimFaultSpec): void {
    if (spec.count > 0) this.faults.push({ ...spec });
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  setEventsForbidden(forbidden: boolean): void {
    this.eventsForbidden = forbidden;
  }

  activateOutOfBand(serviceId: string, version: number): void {
    const service = this.mustService(serviceId);
    if (!service.versions.some((v) => v.number === version)) {
      throw new Error(`simulator: service ${serviceId} has no version ${version}`);
    }
    this.activate(service, version, this.otherUserId);
  }

  addVersion(serviceId: string, spec: SimVersionSpec): void {
    const service = this.mustService(serviceId);
    if (service.versions.some((v) => v.number === spec.number)) {
      throw new Error(`simulator: service ${serviceId} already has version ${spec.number}`);
    }
    const now = Date.now();
    const locked = spec.locked ?? false;
    service.versions.push({
      number: spec.number,
      comment: spec.comment ?? '',
      locked,
      active: false,
      createdAt: apiTime(now),
      updatedAt: apiTime(now),
      config: spec.config ?? defaultConfig(spec.number),
    });
    service.versions.sort((a, b) => a.number - b.number);
    if (locked) {
      this.recordEvent(
        serviceId,
        'version.lock',
        `Version ${spec.number} was locked`,
        { version_number: spec.number },
        now,
        this.otherUserId,
      );
    }
  }

  async close(): Promise<void> {
    for (const entry of this.pending) {
      clearTimeout(entry.timer);
      entry.res.destroy();
    }
    this.pending.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- request handling ---------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const parsed = new URL(req.url ?? '/', this.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const record: SimRequest = {
      method,
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      status: 0,
      startedAt: new Date().toISOString(),
    };
    this.requests.push(record);
    const entry: { timer?: NodeJS.Timeout; res: http.ServerResponse } = { res };
    this.pending.add(entry);
    res.on('close', () => {
      clearTimeout(entry.timer);
      this.pending.delete(entry);
    });
    // Drain any body: the endpoints simulated here take none.
    req.resume();

    const fault = this.takeFault(method, parsed.pathname);
    if (fault?.hang) return; // never answer: the client's timeout must fire

    const answer = () => {
      const reply = fault ? this.faultReply(fault) : this.route(method, parsed, req.headers);
      record.status = reply.status;
      this.send(res, method, reply);
    };
    if (this.latencyMs > 0) entry.timer = setTimeout(answer, this.latencyMs);
    else answer();
  }

  /** Writes made this hour by the same user elsewhere (another tool, a person): Fastly-RateLimit-Remaining drops. */
  spendWrites(count: number): void {
    this.writesHour = Math.floor(Date.now() / 3_600_000);
    this.writesThisHour += count;
  }

  private takeFault(method: string, path: string): SimFaultSpec | undefined {
    const index = this.faults.findIndex((f) => f.count > 0 && (f.match?.({ method, path }) ?? true));
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.count -= 1;
    if (fault.count === 0) this.faults.splice(index, 1);
    return fault;
  }

  private faultReply(fault: SimFaultSpec): Reply {
    if (fault.status === 429) {
      const seconds = fault.resetSeconds ?? 1;
      return {
        status: 429,
        body: {
          msg: 'Too many requests',
          detail: 'Rate limit exceeded; retry after the time in Fastly-RateLimit-Reset',
        },
        headers: {
          'Fastly-RateLimit-Remaining': '0',
          'Fastly-RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + seconds),
          'Retry-After': String(seconds),
        },
      };
    }
    const msg = http.STATUS_CODES[fault.status] ?? 'Error';
    return { status: fault.status, body: { msg } };
  }

  private send(res: http.ServerResponse, method: string, reply: Reply): void {
    if (res.destroyed) return;
    const hour = Math.floor(Date.now() / 3_600_000);
    if (hour !== this.writesHour) {
      this.writesHour = hour;
      this.writesThisHour = 0;
    }
    if (method !== 'GET' && method !== 'HEAD') this.writesThisHour += 1;
    const body = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'Content-Type': reply.contentType ?? 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'Fastly-RateLimit-Remaining': String(Math.max(0, RATE_LIMIT_PER_HOUR - this.writesThisHour)),
      'Fastly-RateLimit-Reset': String((hour + 1) * 3600),
      ...reply.headers,
    });
    res.end(body);
  }

  private route(method: string, url: URL, headers: http.IncomingHttpHeaders): Reply {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (method === 'GET' && path === '/realms/fastly/.well-known/openid-configuration')
      return this.openidConfiguration();
    if (headers['fastly-key'] !== this.token) {
      return { status: 401, body: { msg: 'Provided credentials are missing or invalid' } };
    }
    const q = url.searchParams;
    const segments = path.split('/').slice(1).map(decodeURIComponent);
    const [root, id, sub, n, action] = segments;

    if (method === 'GET') {
      if (path === '/service') return this.listServices(q);
      if (path === '/service/search') return this.searchService(q);
      if (path === '/events') return this.listEvents(q);
      if (path === '/tokens/self') return { status: 200, body: this.tokenBody() };
      if (path === '/current_customer') return { status: 200, body: this.customerBody() };
      if (path === '/current_user') return { status: 200, body: this.userBody() };
      if (path === '/verify') return this.verify();
      if (root === 'service' && id !== undefined) {
        if (segments.length === 2) return this.withService(id, (s) => ({ status: 200, body: this.serviceBody(s) }));
        if (segments.length === 3 && sub === 'details') return this.withService(id, (s) => this.serviceDetails(s, q));
        if (segments.length === 3 && sub === 'version') {
          return this.withService(id, (s) => ({ status: 200, body: s.versions.map((v) => this.versionBody(s, v)) }));
        }
        if (segments.length === 4 && sub === 'version' && n !== undefined) {
          return this.withVersion(id, n, (s, v) => ({ status: 200, body: this.versionBody(s, v) }));
        }
        if (segments.length === 7 && sub === 'diff' && n === 'from' && segments[5] === 'to') {
          return this.withService(id, (s) => this.diff(s, action ?? '', segments[6] ?? '', q.get('format') ?? 'text'));
        }
      }
    }
    if (
      method === 'PUT' &&
      root === 'service' &&
      id !== undefined &&
      sub === 'version' &&
      n !== undefined &&
      action === 'activate' &&
      segments.length === 5
    ) {
      return this.withVersion(id, n, (s, v) => {
        this.activate(s, v.number, this.userId);
        this.activations.push({ serviceId: s.id, version: v.number, at: new Date().toISOString() });
        return { status: 200, body: this.versionBody(s, v) };
      });
    }
    this.unmatched.push({ method, path: url.pathname });
    return notFound();
  }

  private withService(id: string, fn: (service: SimService) => Reply): Reply {
    const service = this.services.get(id);
    return service ? fn(service) : notFound(`Cannot find service '${id}'`);
  }

  private withVersion(id: string, n: string, fn: (service: SimService, version: SimVersion) => Reply): Reply {
    return this.withService(id, (service) => {
      const version = /^\d+$/.test(n) ? service.versions.find((v) => v.number === Number(n)) : undefined;
      return version ? fn(service, version) : notFound(`Cannot find version '${n}'`);
    });
  }

  /** GET /service/{id}/diff/from/{a}/to/{b}: negative numbers count from the latest version (-1 is the latest). */
  private diff(service: SimService, from: string, to: string, format: string): Reply {
    if (!['text', 'html', 'html_simple'].includes(format)) {
      return { status: 400, body: { msg: 'Bad request', detail: `Invalid format '${format}'` } };
    }
    const pick = (n: string) => {
      if (!/^-?\d+$/.test(n) || Number(n) === 0) return undefined;
      const k = Number(n);
      return k < 0 ? service.versions.at(k) : service.versions.find((v) => v.number === k);
    };
    const a = pick(from);
    const b = pick(to);
    if (!a) return notFound(`Cannot find version '${from}'`);
    if (!b) return notFound(`Cannot find version '${to}'`);
    const text = unifiedDiff(
      generatedVcl(a.config),
      generatedVcl(b.config),
      `version ${a.number}`,
      `version ${b.number}`,
    );
    const diff = format === 'text' ? text : htmlDiff(text, format === 'html');
    return { status: 200, body: { from: a.number, to: b.number, format, diff } };
  }

  /** Replaces a version's configuration (a test's "someone changed a backend in v42"). */
  setConfig(serviceId: string, version: number, config: SimConfig): void {
    const found = this.mustService(serviceId).versions.find((v) => v.number === version);
    if (!found) throw new Error(`simulator: service ${serviceId} has no version ${version}`);
    found.config = config;
  }

  private activate(service: SimService, number: number, userId: string): void {
    const now = Date.now();
    for (const v of service.versions) {
      const target = v.number === number;
      if (target) {
        v.locked = true;
        v.updatedAt = apiTime(now);
      }
      v.active = target;
    }
    service.active = number;
    service.updatedAt = apiTime(now);
    this.recordEvent(
      service.id,
      'version.activate',
      `Version ${number} was activated`,
      { version_number: number },
      now,
      userId,
    );
  }

  private recordEvent(
    serviceId: string | null,
    eventType: string,
    description: string,
    metadata: Record<string, unknown>,
    at: number,
    userId: string,
  ): void {
    this.eventSeq += 1;
    this.events.push({
      id: fastlyId(),
      seq: this.eventSeq,
      eventType,
      serviceId,
      userId,
      tokenId: this.tokenId,
      description,
      metadata,
      createdAt: apiTime(at),
    });
  }

  // --- endpoints ------------------------------------------------------------------------------

  private openidConfiguration(): Reply {
    const realm = `${this.url}/realms/fastly`;
    return {
      status: 200,
      body: {
        issuer: realm,
        authorization_endpoint: `${realm}/protocol/openid-connect/auth`,
        token_endpoint: `${realm}/protocol/openid-connect/token`,
        userinfo_endpoint: `${realm}/protocol/openid-connect/userinfo`,
        end_session_endpoint: `${realm}/protocol/openid-connect/logout`,
        jwks_uri: `${realm}/protocol/openid-connect/certs`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: ['openid'],
      },
    };
  }

  private listServices(q: URLSearchParams): Reply {
    const all = [...this.services.values()].sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
    );
    if (q.get('direction') === 'descend') all.reverse();
    const perPage = Math.max(1, Number(q.get('per_page') ?? 20) || 20);
    const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < all.length) {
      const next = new URL('/service', this.url);
      next.searchParams.set('page', String(page + 1));
      next.searchParams.set('per_page', String(perPage));
      headers.Link = `<${next.toString()}>; rel="next"`;
    }
    const body = slice.map((s) => ({
      ...this.serviceSummary(s),
      version: s.active ?? s.versions.at(-1)?.number ?? 0,
      versions: s.versions.map((v) => this.versionBody(s, v)),
    }));
    return { status: 200, body, headers };
  }

  private searchService(q: URLSearchParams): Reply {
    const name = q.get('name');
    if (!name) return { status: 400, body: { msg: 'Bad request', detail: "Missing required parameter 'name'" } };
    const service = [...this.services.values()].find((s) => s.name === name);
    return service ? { status: 200, body: this.serviceBody(service) } : notFound(`Cannot find service '${name}'`);
  }

  private serviceDetails(service: SimService, q: URLSearchParams): Reply {
    const requested = q.get('version');
    const active = service.versions.find((v) => v.active) ?? null;
    let shown = active ?? service.versions.at(-1) ?? null;
    if (requested !== null) {
      shown = service.versions.find((v) => String(v.number) === requested) ?? null;
      if (!shown) return notFound(`Cannot find version '${requested}'`);
    }
    const onlyActive = q.get('filter[versions.active]') === 'true';
    return {
      status: 200,
      body: {
        ...this.serviceBody(service),
        versions: service.versions.filter((v) => !onlyActive || v.active).map((v) => this.versionBody(service, v)),
        active_version: active ? this.versionDetail(service, active) : null,
        version: shown ? this.versionDetail(service, shown) : null,
      },
    };
  }

  private listEvents(q: URLSearchParams): Reply {
    if (this.eventsForbidden) {
      return { status: 403, body: { msg: 'Forbidden', detail: 'This token is not permitted to read the audit log' } };
    }
    const sort = q.get('sort') ?? 'created_at';
    if (sort !== 'created_at' && sort !== '-created_at') {
      return { status: 400, body: { msg: 'Bad request', detail: `Invalid sort parameter '${sort}'` } };
    }
    const size = Math.min(
      EVENTS_MAX_PAGE_SIZE,
      Math.max(1, Number(q.get('page[size]') ?? EVENTS_DEFAULT_PAGE_SIZE) || EVENTS_DEFAULT_PAGE_SIZE),
    );
    const page = Math.max(1, Number(q.get('page[number]') ?? 1) || 1);
    const filters: Array<[string, (e: SimEvent) => string | null]> = [
      ['filter[service_id]', (e) => e.serviceId],
      ['filter[event_type]', (e) => e.eventType],
      ['filter[user_id]', (e) => e.userId],
      ['filter[token_id]', (e) => e.tokenId],
      ['filter[customer_id]', () => this.customerId],
    ];
    const matching = this.events
      .filter((e) => filters.every(([key, get]) => !q.has(key) || get(e) === q.get(key)))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.seq - b.seq);
    if (sort === '-created_at') matching.reverse();
    const totalPages = Math.max(1, Math.ceil(matching.length / size));
    const link = (p: number) => {
      const u = new URL('/events', this.url);
      for (const [k, v] of q) if (k !== 'page[number]') u.searchParams.set(k, v);
      u.searchParams.set('page[number]', String(p));
      return u.toString();
    };
    const links: Record<string, string> = { first: link(1), last: link(totalPages) };
    if (page > 1) links.prev = link(page - 1);
    if (page < totalPages) links.next = link(page + 1);
    return {
      status: 200,
      contentType: JSON_API,
      body: {
        data: matching.slice((page - 1) * size, page * size).map((e) => ({
          id: e.id,
          type: 'event',
          attributes: {
            admin: false,
            created_at: e.createdAt,
            customer_id: this.customerId,
            description: e.description,
            event_type: e.eventType,
            ip: '127.0.0.1',
            metadata: e.metadata,
            service_id: e.serviceId,
            user_id: e.userId,
            token_id: e.tokenId,
          },
        })),
        links,
        meta: { current_page: page, per_page: size, record_count: matching.length, total_pages: totalPages },
      },
    };
  }

  private verify(): Reply {
    return {
      status: 200,
      body: {
        customer: this.customerBody(),
        user: this.userBody(),
        services: Object.fromEntries([...this.services.values()].map((s) => [s.id, s.name])),
        token: this.tokenBody(),
      },
    };
  }

  // --- bodies ---------------------------------------------------------------------------------

  private serviceSummary(s: SimService) {
    return {
      id: s.id,
      name: s.name,
      customer_id: this.customerId,
      type: 'vcl',
      comment: '',
      created_at: s.createdAt,
      updated_at: s.updatedAt,
      deleted_at: null,
    };
  }

  private serviceBody(s: SimService) {
    return {
      ...this.serviceSummary(s),
      publish_key: s.publishKey,
      paused: false,
      versions: s.versions.map((v) => this.versionBody(s, v)),
    };
  }

  private versionBody(s: SimService, v: SimVersion) {
    return {
      number: v.number,
      service_id: s.id,
      active: v.active,
      locked: v.locked,
      comment: v.comment,
      deployed: false,
      staging: false,
      testing: false,
      created_at: v.createdAt,
      updated_at: v.updatedAt,
      deleted_at: null,
      environments: [],
    };
  }

  private versionDetail(s: SimService, v: SimVersion) {
    return {
      ...this.versionBody(s, v),
      backends: v.config.backends.map((b) => ({
        name: b.name,
        address: b.address,
        port: b.port ?? 443,
        service_id: s.id,
        version: v.number,
      })),
      cache_settings: [],
      conditions: v.config.conditions.map((c) => ({
        name: c.name,
        type: c.type,
        statement: c.statement,
        priority: String(c.priority ?? 10),
        service_id: s.id,
        version: String(v.number),
      })),
      directors: [],
      domains: v.config.domains.map((name) => ({ name, comment: '', service_id: s.id, version: v.number })),
      gzips: [],
      headers: [],
      healthchecks: [],
      request_settings: [],
      response_objects: [],
      settings: {
        'general.default_host': '',
        'general.default_ttl': 3600,
        'general.stale_if_error': false,
        'general.stale_if_error_ttl': 43200,
      },
      snippets: v.config.snippets.map((sn) => ({
        name: sn.name,
        type: sn.type,
        content: sn.content,
        priority: String(sn.priority ?? 100),
        dynamic: '0',
        service_id: s.id,
        version: String(v.number),
      })),
      vcls: [],
      wordpress: [],
    };
  }

  private customerBody() {
    return {
      id: this.customerId,
      name: 'Simulated Customer',
      owner_id: this.userId,
      billing_contact_id: null,
      can_stream_syslog: true,
    };
  }

  private userBody() {
    return {
      id: this.userId,
      login: 'oncall@example.com',
      name: 'On-call Engineer',
      customer_id: this.customerId,
      role: 'superuser',
      locked: false,
    };
  }

  private tokenBody() {
    const created = apiTime(Date.now() - 86_400_000);
    return {
      id: this.tokenId,
      name: 'simulator token',
      user_id: this.userId,
      customer_id: this.customerId,
      services: [],
      scope: 'global',
      created_at: created,
      updated_at: created,
      deleted_at: null,
      last_used_at: apiTime(Date.now()),
      expires_at: null,
      ip: '127.0.0.1',
      user_agent: 'simulator',
    };
  }

  private mustService(serviceId: string): SimService {
    const service = this.services.get(serviceId);
    if (!service) throw new Error(`simulator: unknown service ${serviceId}`);
    return service;
  }
}
