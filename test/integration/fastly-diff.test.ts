/**
 * The plan's Fastly diff: the simulator's diff endpoint as the real `fastly` package (its DiffApi and
 * DiffResponse model) reads it, and the driver's summary of it in the plan. The official fastly CLI (16.1.0, the
 * version the simulator's other tests run) has no command for this endpoint, so it cannot prove it.
 */
import { ApiClient, DiffApi } from 'fastly';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChanges } from '../../src/core/plan-changes.js';
import { fastlyDriver } from '../../src/drivers/fastly/index.js';
import { fastlyTargetSchema } from '../../src/drivers/fastly/target-schema.js';
import { silentLogger } from '../../src/log.js';
import { defaultConfig } from '../support/fastly-config.js';
import { FastlySimulator } from '../support/fastly-simulator.js';

const SERVICE_ID = 'SU1Z0isxPaozGVKXdv0eY';
let sim: FastlySimulator;

beforeAll(async () => {
  sim = await FastlySimulator.start();
  const good = defaultConfig(41);
  sim.addService({
    id: SERVICE_ID,
    name: 'www-prod',
    versions: [
      { number: 40, comment: 'older', config: good },
      { number: 41, comment: 'known good', config: good },
      {
        number: 42,
        comment: 'bad deploy',
        config: {
          ...good,
          domains: [...good.domains, 'beta.example.com'],
          backends: [{ name: 'origin', address: 'origin-new.example.com', port: 8443 }],
          snippets: [
            ...good.snippets,
            { name: 'ban_bots', type: 'recv', content: 'if (req.http.User-Agent ~ "bot") { error 403; }' },
          ],
        },
      },
    ],
    active: 42,
  });
});

afterAll(async () => {
  await sim?.close();
});

function rawClient(): ApiClient {
  const api = new ApiClient();
  api.authenticate(sim.token);
  api.plugins = [(request) => (request.url = request.url.replace('https://api.fastly.com', sim.url))];
  return api;
}

function driver() {
  return fastlyDriver.create(
    'cdn',
    fastlyTargetSchema.parse({ kind: 'fastly', serviceId: SERVICE_ID }),
    { fastly: { token: sim.token, baseUrl: sim.url } },
    silentLogger(),
  );
}

/** The package's own DiffResponse model, as its deserialiser builds it from the answer. */
async function diff(api: DiffApi, options: Parameters<DiffApi['diffServiceVersionsWithHttpInfo']>[0]) {
  const { data } = await api.diffServiceVersionsWithHttpInfo(options);
  return data as { from: number; to: number; format: string; diff: string };
}

const ctx = () => ({ log: silentLogger(), signal: new AbortController().signal, report: () => undefined });

describe('the diff endpoint, read by the fastly package', () => {
  it('answers DiffResponse: from, to, format and a unified diff of the generated configuration', async () => {
    const answer = await diff(new DiffApi(rawClient()), {
      service_id: SERVICE_ID,
      from_version_id: 42,
      to_version_id: 41,
    });
    expect(answer).toMatchObject({ from: 42, to: 41, format: 'text' });
    const lines = answer.diff.split('\n');
    expect(lines.slice(0, 2)).toEqual(['--- version 42', '+++ version 41']);
    expect(lines).toContain('-    .host = "origin-new.example.com";');
    expect(lines).toContain('+    .host = "origin.example.com";');
    expect(lines).toContain('-# Domain beta.example.com');
  });

  it('counts -1 as the latest version, sends the whole configuration for equal versions, and refuses a bad format', async () => {
    const api = new DiffApi(rawClient());
    const latest = await diff(api, { service_id: SERVICE_ID, from_version_id: -1, to_version_id: 42 });
    expect(latest.from).toBe(42);
    expect(latest.diff).toContain('backend F_origin {');
    expect(latest.diff.split('\n').some((l) => l.startsWith('+') || l.startsWith('-'))).toBe(false);
    const html = await diff(api, { service_id: SERVICE_ID, from_version_id: 42, to_version_id: 41, format: 'html' });
    expect(html.format).toBe('html');
    expect(html.diff).toContain('<span class="del">-    .port = "8443";</span>');
    await expect(
      diff(api, { service_id: SERVICE_ID, from_version_id: 42, to_version_id: 41, format: 'pdf' as 'text' }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(diff(api, { service_id: SERVICE_ID, from_version_id: 42, to_version_id: 99 })).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe("the plan's changes on Fastly", () => {
  it('summarises the diff from the live version to the restored one: lines and the objects that differ', async () => {
    const d = driver();
    const plan = await d.plan(ctx(), {});
    expect([plan.from.label, plan.to.label]).toEqual(['v42', 'v41']);
    const [change] = await readChanges(d, undefined, ctx(), plan);
    expect(change).toMatchObject({ kind: 'config-diff', added: 2, removed: 5 });
    expect(change?.kind === 'config-diff' && change.objects).toEqual([
      { type: 'domain', name: 'beta.example.com' },
      { type: 'backend', name: 'origin' },
      { type: 'snippet', name: 'ban_bots' },
    ]);
  });

  it('says the diff is not available when Fastly refuses it, and the plan stands', async () => {
    const d = driver();
    const plan = await d.plan(ctx(), {});
    sim.injectFaults({ status: 403, count: 1, match: (req) => req.path.includes('/diff/') });
    const changes = await readChanges(d, undefined, ctx(), plan);
    expect(changes).toEqual([{ kind: 'unavailable', about: 'diff', reason: expect.stringContaining('403') }]);
    expect(changes[0]?.kind === 'unavailable' && changes[0].reason).toMatch(/diff of versions 42 and 41/);
  });
});
