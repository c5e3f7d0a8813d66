import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRollbackError, type RollbackError } from '../../src/core/errors.js';
import { FastlyClient, type FastlyClientOptions } from '../../src/drivers/fastly/client.js';
import { createLogger } from '../../src/log.js';
import { FastlySimulator } from '../support/fastly-simulator.js';
import { waitUntil } from '../support/wait.js';

let sim: FastlySimulator;
let serviceCount = 0;

beforeAll(async () => {
  sim = await FastlySimulator.start();
});

afterAll(async () => {
  await sim.close();
});

/** A fresh service per test, so activations and faults of one test never meet another's. */
function service(spec: { versions?: number; active?: number | null; activationHistory?: number[] } = {}): string {
  serviceCount += 1;
  const id = `SVC${String(serviceCount).padStart(3, '0')}x4xCwxxJxGCx123R`;
  sim.addService({
    id,
    name: `www-prod-${serviceCount}`,
    versions: Array.from({ length: spec.versions ?? 4 }, (_, i) => ({ number: i + 1, comment: `release ${i + 1}` })),
    active: spec.active === undefined ? 3 : spec.active,
    ...(spec.activationHistory ? { activationHistory: spec.activationHistory } : {}),
  });
  return id;
}

/** A client whose waits are recorded instead of slept, so retries cost no time. */
function client(overrides: Partial<FastlyClientOptions> = {}) {
  const waits: number[] = [];
  const fastly = new FastlyClient({
    token: sim.token,
    baseUrl: sim.url,
    timeoutMs: 1_000,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
  return { fastly, waits };
}

const onPath = (path: string, method?: string) => (req: { method: string; path: string }) =>
  req.path === path && (method === undefined || req.method === method);

function requestsTo(path: string) {
  return sim.requests.filter((r) => r.path === path);
}

async function failure(promise: Promise<unknown>): Promise<RollbackError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  if (!isRollbackError(error)) throw error;
  return error;
}

describe('FastlyClient against the Fastly simulator', () => {
  it('reads a service with its versions and the active one', async () => {
    const id = service({ versions: 4, active: 3 });
    const svc = await client().fastly.getService(id);
    expect(svc).toMatchObject({ id, name: expect.stringMatching(/^www-prod-/), activeVersion: 3 });
    expect(svc.versions.map((v) => [v.number, v.active, v.locked, v.comment])).toEqual([
      [1, false, true, 'release 1'],
      [2, false, true, 'release 2'],
      [3, true, true, 'release 3'],
      [4, false, false, 'release 4'],
    ]);
    expect(svc.versions[0]?.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('lists activations newest first, only of this service and only activations', async () => {
    const id = service({ versions: 5, active: 3, activationHistory: [1, 2, 4, 3] });
    service(); // another service's activations must not appear
    sim.activateOutOfBand(id, 5);
    sim.addVersion(id, { number: 6, locked: true }); // a version.lock event, not an activation

    const activations = await client().fastly.listActivations(id);

    expect(activations.map((a) => a.version)).toEqual([5, 3, 4, 2, 1]);
    expect(activations[0]?.description).toBe('Version 5 was activated');
    expect(activations[0]?.userId).toEqual(expect.any(String));
    const times = activations.map((a) => Date.parse(a.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(requestsTo('/events').at(-1)?.query).toMatchObject({
      'filter[service_id]': id,
      'filter[event_type]': 'version.activate',
      sort: '-created_at',
    });
  });

  it('activates a version: Fastly serves it, records one activation, and the history shows it first', async () => {
    const id = service({ versions: 4, active: 3 });
    const { fastly } = client();

    const activated = await fastly.activateVersion(id, 2);

    expect(activated).toMatchObject({ number: 2, active: true, locked: true });
    expect(sim.activeVersion(id)).toBe(2);
    expect(sim.activations.filter((a) => a.serviceId === id)).toEqual([
      { serviceId: id, version: 2, at: expect.any(String) },
    ]);
    expect((await fastly.getService(id)).activeVersion).toBe(2);
    expect((await fastly.listActivations(id))[0]?.version).toBe(2);
  });

  it('sends the token from options even when FASTLY_API_TOKEN in the environment differs', async () => {
    const id = service();
    const saved = process.env.FASTLY_API_TOKEN;
    try {
      process.env.FASTLY_API_TOKEN = 'stale-token-from-env';
      await expect(client().fastly.getService(id)).resolves.toMatchObject({ id });

      process.env.FASTLY_API_TOKEN = sim.token;
      const error = await failure(client({ token: 'wrong-token-in-options' }).fastly.getService(id));
      expect(error.code).toBe('PROVIDER_AUTH');
    } finally {
      if (saved === undefined) delete process.env.FASTLY_API_TOKEN;
      else process.env.FASTLY_API_TOKEN = saved;
    }
  });

  it('turns 401 into PROVIDER_AUTH that names the setting to fix and never the token', async () => {
    const id = service();
    const token = 'revoked-token-0123456789';
    const error = await failure(client({ token }).fastly.getService(id));
    expect(error.code).toBe('PROVIDER_AUTH');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('Provided credentials are missing or invalid');
    expect(error.hint).toContain('FASTLY_API_TOKEN');
    expect(error.hint).toContain(id);
    expect(error.toUserText()).not.toContain(token);
    expect(JSON.stringify(error.details)).not.toContain(token);
  });

  it('turns an unknown service into PROVIDER_NOT_FOUND pointing at rollback.yml', async () => {
    const error = await failure(client().fastly.getService('NoSuchService0000000000'));
    expect(error.code).toBe('PROVIDER_NOT_FOUND');
    expect(error.message).toContain("Cannot find service 'NoSuchService0000000000'");
    expect(error.hint).toContain('rollback.yml');
  });

  it('turns activating an unknown version into PROVIDER_NOT_FOUND without activating anything', async () => {
    const id = service({ versions: 4, active: 3 });
    const error = await failure(client().fastly.activateVersion(id, 99));
    expect(error.code).toBe('PROVIDER_NOT_FOUND');
    expect(error.hint).toContain('version 99');
    expect(sim.activeVersion(id)).toBe(3);
  });

  it('waits out two 429s as long as Fastly-RateLimit-Reset says, then activates once', async () => {
    const id = service({ versions: 4, active: 3 });
    const path = `/service/${id}/version/2/activate`;
    sim.injectFaults({ status: 429, count: 2, resetSeconds: 2, match: onPath(path) });
    const { fastly, waits } = client();

    await expect(fastly.activateVersion(id, 2)).resolves.toMatchObject({ number: 2, active: true });

    expect(requestsTo(path).map((r) => r.status)).toEqual([429, 429, 200]);
    expect(sim.activations.filter((a) => a.serviceId === id)).toHaveLength(1);
    // The reset is 2-3 s away (epoch seconds, rounded up); exponential backoff alone would wait < 0.5 s.
    expect(waits).toHaveLength(2);
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(1_900);
      expect(wait).toBeLessThanOrEqual(3_000);
    }
  });

  it('fails at once with PROVIDER_RATE_LIMITED when the rate limit resets later than it is worth waiting', async () => {
    const id = service();
    sim.injectFaults({ status: 429, count: 1, resetSeconds: 3_600, match: onPath(`/service/${id}/details`) });
    const { fastly, waits } = client();

    const error = await failure(fastly.getService(id));

    expect(error.code).toBe('PROVIDER_RATE_LIMITED');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/resets at \d{4}-\d\d-\d\dT/);
    expect(waits).toEqual([]);
  });

  it('retries a read after 500s, backing off, and succeeds', async () => {
    const id = service();
    const path = `/service/${id}/details`;
    sim.injectFaults({ status: 500, count: 2, match: onPath(path) });
    const { fastly, waits } = client();

    await expect(fastly.getService(id)).resolves.toMatchObject({ id, activeVersion: 3 });

    expect(requestsTo(path).map((r) => r.status)).toEqual([500, 500, 200]);
    expect(waits).toHaveLength(2);
    expect(waits.every((w) => w > 0 && w <= 5_000)).toBe(true);
  });

  it('gives up on a read after maxRetries with a retryable PROVIDER_UNAVAILABLE', async () => {
    const id = service();
    const path = `/service/${id}/details`;
    sim.injectFaults({ status: 503, count: 2, match: onPath(path) });

    const error = await failure(client({ maxRetries: 1 }).fastly.getService(id));

    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('HTTP 503');
    expect(requestsTo(path)).toHaveLength(2);
  });

  it('does not resend an activation after a 500, and says the service must be re-read', async () => {
    const id = service({ versions: 4, active: 3 });
    const path = `/service/${id}/version/2/activate`;
    sim.injectFaults({ status: 500, count: 1, match: onPath(path) });
    const { fastly, waits } = client();

    const error = await failure(fastly.activateVersion(id, 2));

    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('may or may not have happened');
    expect(error.hint).toMatch(/re-read the service/);
    expect(requestsTo(path)).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(sim.activations.filter((a) => a.serviceId === id)).toEqual([]);
  });

  it('retries a read that hangs, after timeoutMs', async () => {
    const id = service();
    const path = `/service/${id}/details`;
    sim.injectFaults({ status: 200, count: 1, hang: true, match: onPath(path) });

    await expect(client({ timeoutMs: 200 }).fastly.getService(id)).resolves.toMatchObject({ id });
    expect(requestsTo(path)).toHaveLength(2);
  });

  it('reports PROVIDER_TIMEOUT within timeoutMs when an activation hangs, without resending it', async () => {
    const id = service({ versions: 4, active: 3 });
    const path = `/service/${id}/version/2/activate`;
    sim.injectFaults({ status: 200, count: 1, hang: true, match: onPath(path) });

    const started = Date.now();
    const error = await failure(client({ timeoutMs: 300 }).fastly.activateVersion(id, 2));
    const elapsed = Date.now() - started;

    expect(error.code).toBe('PROVIDER_TIMEOUT');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('may or may not have happened');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_000);
    expect(requestsTo(path)).toHaveLength(1);
  });

  it('reports a retryable PROVIDER_TIMEOUT when reads keep hanging', async () => {
    const id = service();
    sim.injectFaults({ status: 200, count: 1, hang: true, match: onPath(`/service/${id}/details`) });

    const error = await failure(client({ timeoutMs: 200, maxRetries: 0 }).fastly.getService(id));

    expect(error.code).toBe('PROVIDER_TIMEOUT');
    expect(error.retryable).toBe(true);
  });

  it('stops a call in flight when the signal aborts, rejecting with the signal reason', async () => {
    const id = service();
    sim.injectFaults({ status: 200, count: 1, hang: true, match: onPath(`/service/${id}/details`) });
    const controller = new AbortController();
    const reason = new Error('rollback cancelled from Slack');

    const call = expect(client({ timeoutMs: 5_000 }).fastly.getService(id, controller.signal)).rejects.toBe(reason);
    // Aborted once the call is in flight: Fastly has it and will never answer.
    await waitUntil('the call to reach Fastly', () => requestsTo(`/service/${id}/details`).length === 1);
    const aborted = Date.now();
    controller.abort(reason);
    await call;
    expect(Date.now() - aborted).toBeLessThan(1_000);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const id = service({ versions: 4, active: 3 });
    const controller = new AbortController();
    controller.abort();

    await expect(client().fastly.activateVersion(id, 2, controller.signal)).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(requestsTo(`/service/${id}/version/2/activate`)).toEqual([]);
  });

  it('turns a 403 from the audit log into PROVIDER_AUTH that explains the permission', async () => {
    const id = service();
    sim.setEventsForbidden(true);
    try {
      const error = await failure(client().fastly.listActivations(id));
      expect(error.code).toBe('PROVIDER_AUTH');
      expect(error.hint).toContain('audit log');
    } finally {
      sim.setEventsForbidden(false);
    }
  });

  it('logs each call at debug with method, path, status and duration, never the token', async () => {
    const id = service();
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    sim.injectFaults({ status: 502, count: 1, match: onPath(`/service/${id}/details`) });

    await client({ log }).fastly.getService(id);

    const calls = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'fastly api call');
    expect(calls.map((c) => [c.method, c.path, c.status])).toEqual([
      ['GET', `/service/${id}/details`, 502],
      ['GET', `/service/${id}/details`, 200],
    ]);
    expect(calls.every((c) => typeof c.durationMs === 'number')).toBe(true);
    expect(lines.join('\n')).not.toContain(sim.token);
  });
});

describe('FastlyClient.writeBudget', () => {
  it("reports Fastly-RateLimit-Remaining and -Reset from Fastly's answers; an activation spends one write, a read none", async () => {
    const id = service();
    const { fastly } = client();
    expect(fastly.writeBudget()).toBeUndefined();
    await fastly.getService(id);
    const before = fastly.writeBudget();
    expect(before?.remaining).toBeGreaterThan(0);
    // The start of the next hour, as the simulator counts Fastly's hourly window.
    expect(before?.resetsAt).toBeGreaterThan(Date.now() - 1_000);
    expect(before?.resetsAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect((before?.resetsAt ?? 1) % 3_600_000).toBe(0);
    await fastly.getService(id);
    expect(fastly.writeBudget()?.remaining).toBe(before?.remaining);
    await fastly.activateVersion(id, 2);
    expect(fastly.writeBudget()?.remaining).toBe((before?.remaining ?? 0) - 1);
  });
});
