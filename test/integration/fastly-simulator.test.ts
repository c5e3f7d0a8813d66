/**
 * The simulator is only worth something if clients nobody here wrote accept it: the official
 * `fastly` CLI (Go, go-fastly) and the raw `fastly` npm package classes (not our wrapper).
 */
import { ApiClient, EventsApi, VersionApi } from 'fastly';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastlyCli, startFastlyCli } from '../support/fastly-cli.js';
import { FastlySimulator } from '../support/fastly-simulator.js';

const SERVICE_ID = 'SU1Z0isxPaozGVKXdv0eY';

let sim: FastlySimulator;
/** The CLI with a HOME of its own; whatever it tries to reach on the internet goes to a proxy that refuses it. */
let cli: FastlyCli;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function fastly(args: string[], token = sim.token): Promise<CliResult> {
  try {
    const { stdout, stderr } = await cli.run(args, { token, timeoutMs: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  sim = await FastlySimulator.start();
  cli = await startFastlyCli(sim);
  sim.addService({
    id: SERVICE_ID,
    name: 'www-prod',
    versions: [
      { number: 1, comment: 'first' },
      { number: 2, comment: 'known good' },
      { number: 3, comment: 'bad deploy' },
      { number: 4, comment: 'draft' },
    ],
    active: 3,
  });
});

afterAll(async () => {
  await Promise.all([sim?.close(), cli?.close()]);
});

interface CliVersion {
  Number: number;
  Active: boolean;
  Locked: boolean;
  Comment: string;
  ServiceID: string;
}

describe('the official fastly CLI against the simulator', () => {
  it('lists the versions the simulator has, as JSON and as a table', async () => {
    const [json, table] = await Promise.all([
      fastly(['service', 'version', 'list', '--service-id', SERVICE_ID, '--json']),
      fastly(['service', 'version', 'list', '--service-id', SERVICE_ID]),
    ]);

    expect(json.code, json.stderr).toBe(0);
    const versions = JSON.parse(json.stdout) as CliVersion[];
    expect(versions.map((v) => [v.Number, v.Active, v.Locked, v.Comment, v.ServiceID])).toEqual([
      [1, false, true, 'first', SERVICE_ID],
      [2, false, true, 'known good', SERVICE_ID],
      [3, true, true, 'bad deploy', SERVICE_ID],
      [4, false, false, 'draft', SERVICE_ID],
    ]);

    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/));
    expect(rows.map((cells) => [cells[0], cells[1]])).toEqual([
      ['1', 'false'],
      ['2', 'false'],
      ['3', 'true'],
      ['4', 'false'],
    ]);
  });

  it('activates a version: the simulator serves it and records exactly one activation', async () => {
    const result = await fastly(['service', 'version', 'activate', '--service-id', SERVICE_ID, '--version', '2']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Activated service ${SERVICE_ID} version 2`);
    expect(sim.activeVersion(SERVICE_ID)).toBe(2);
    expect(sim.activations).toEqual([{ serviceId: SERVICE_ID, version: 2, at: expect.any(String) }]);

    const after = await fastly(['service', 'version', 'list', '--service-id', SERVICE_ID, '--json']);
    const active = (JSON.parse(after.stdout) as CliVersion[]).filter((v) => v.Active).map((v) => v.Number);
    expect(active).toEqual([2]);
  });

  it("shows the simulator's 401 and 404 bodies the way it shows Fastly's", async () => {
    const [badToken, unknown] = await Promise.all([
      fastly(['service', 'version', 'list', '--service-id', SERVICE_ID], 'not-the-token'),
      fastly(['service', 'version', 'list', '--service-id', 'NoSuchService0000000000']),
    ]);

    expect(badToken.code).not.toBe(0);
    expect(badToken.stderr).toContain('401');
    expect(badToken.stderr).toContain('Provided credentials are missing or invalid');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('404');
    expect(unknown.stderr).toContain("Cannot find service 'NoSuchService0000000000'");
  });

  it('asked only for routes the simulator knows, and reached nothing else but the refused proxy', () => {
    const asked = new Set(sim.requests.map((r) => `${r.method} ${r.path.replace(SERVICE_ID, '{id}')}`));
    expect(sim.unmatched).toEqual([]);
    expect(asked).toEqual(
      new Set([
        'GET /realms/fastly/.well-known/openid-configuration',
        'GET /service/{id}/version',
        'GET /service/{id}/version/2',
        'PUT /service/{id}/version/2/activate',
        'GET /service/NoSuchService0000000000/version',
      ]),
    );
    expect(sim.requests.some((r) => JSON.stringify(r).includes(sim.token))).toBe(false);
    // Whatever the CLI tried to reach on the internet went to the proxy and was refused.
    expect(cli.proxy.attempts.every((line) => line.startsWith('CONNECT '))).toBe(true);
  });
});

describe('the simulator over plain HTTP', () => {
  const HTTP_SERVICE_ID = 'HttpOnlyService0000000';

  beforeAll(() => {
    sim.addService({ id: HTTP_SERVICE_ID, name: 'www-http', versions: 3, active: 2 });
  });

  it('puts rate-limit headers on every answer and counts only writes against the limit', async () => {
    const headers = { 'Fastly-Key': sim.token };
    const read = await fetch(`${sim.url}/service/${HTTP_SERVICE_ID}`, { headers });
    const denied = await fetch(`${sim.url}/service/${HTTP_SERVICE_ID}`);
    const write = await fetch(`${sim.url}/service/${HTTP_SERVICE_ID}/version/1/activate`, { method: 'PUT', headers });
    const readAgain = await fetch(`${sim.url}/service/${HTTP_SERVICE_ID}`, { headers });

    for (const response of [read, denied, write, readAgain]) {
      expect(Number(response.headers.get('fastly-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    }
    const remaining = (r: Response) => Number(r.headers.get('fastly-ratelimit-remaining'));
    expect(remaining(write)).toBe(remaining(read) - 1);
    expect(remaining(readAgain)).toBe(remaining(write));
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ msg: 'Provided credentials are missing or invalid' });
  });

  it('answers 429 with the reset time and Retry-After, and answers late when latency is set', async () => {
    sim.injectFaults({ status: 429, count: 1, resetSeconds: 5 });
    const limited = await fetch(`${sim.url}/service/${HTTP_SERVICE_ID}`, { headers: { 'Fastly-Key': sim.token } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('5');
    expect(Number(limited.headers.get('fastly-ratelimit-reset')) - Date.now() / 1000).toBeGreaterThan(4);

    sim.setLatency(150);
    try {
      const started = Date.now();
      const slow = await fetch(`${sim.url}/service/${HTTP_SERVICE_ID}`, { headers: { 'Fastly-Key': sim.token } });
      expect(slow.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      sim.setLatency(0);
    }
  });
});

describe('the raw fastly npm package against the simulator', () => {
  /** An ApiClient of our own, pointed at the simulator with a superagent plugin. */
  function rawClient(): ApiClient {
    const api = new ApiClient();
    api.authenticate(sim.token);
    api.plugins = [(request) => (request.url = request.url.replace('https://api.fastly.com', sim.url))];
    return api;
  }

  it('ignores basePath: every call brings its own https://api.fastly.com', () => {
    const api = new ApiClient();
    api.basePath = sim.url;
    const url = api.buildUrl('/service/{service_id}/version', { service_id: SERVICE_ID }, {}, 'https://api.fastly.com');
    expect(url).toBe(`https://api.fastly.com/service/${SERVICE_ID}/version`);
  });

  it('reads versions and audit events into its own models', async () => {
    const api = rawClient();
    const versions = await new VersionApi(api).listServiceVersions({ service_id: SERVICE_ID });
    expect(versions.map((v) => [v.number, v.locked])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);

    const info = await new EventsApi(api).listEventsWithHttpInfo({
      filter_service_id: SERVICE_ID,
      filter_event_type: 'version.activate',
      sort: '-created_at',
      page_size: 2,
    });
    const page = info.data as {
      data: Array<{
        type: string;
        attributes: { created_at: Date; metadata: Record<string, unknown>; description: string };
      }>;
      meta: { per_page: number; record_count: number; total_pages: number };
      links: { next?: string };
    };
    expect(info.response.headers['content-type']).toContain('application/vnd.api+json');
    expect(page.data[0]?.type).toBe('event');
    expect(page.data[0]?.attributes.created_at).toBeInstanceOf(Date);
    expect(page.data.map((e) => e.attributes.metadata.version_number)).toEqual([2, 3]);
    expect(page.meta).toMatchObject({ per_page: 2, total_pages: Math.ceil(page.meta.record_count / 2) });
    expect(page.links.next).toContain('page%5Bnumber%5D=2');
  });
});
