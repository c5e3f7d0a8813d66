import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FastlyClient } from '../../src/drivers/fastly/client.js';
import { FastlySimulator } from '../support/fastly-simulator.js';
import { waitUntil } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVICE = 'SU1Z0isxPaozGVKXdv0eY';

let sim: FastlySimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function simulator(): Promise<FastlySimulator> {
  sim = await FastlySimulator.start();
  sim.addService({ id: SERVICE, name: 'www-prod', versions: 42, active: 42 });
  return sim;
}

describe('Fastly client connections', () => {
  it("sends a rollback's calls one after another over one connection", async () => {
    const sim = await simulator();
    const fastly = new FastlyClient({ token: sim.token, baseUrl: sim.url });
    // What a rollback sends: plan (service, history), stale-plan read, activation, read-back.
    await fastly.getService(SERVICE);
    await fastly.listActivations(SERVICE);
    await fastly.getService(SERVICE);
    await fastly.activateVersion(SERVICE, 41);
    expect((await fastly.getService(SERVICE)).activeVersion).toBe(41);
    expect(sim.requests).toHaveLength(5);
    expect(sim.connections).toBe(1);
  });

  it('keeps a connection waiting for a slow answer past the idle limit, and closes one left unused', async () => {
    const sim = await simulator();
    const fastly = new FastlyClient({ token: sim.token, baseUrl: sim.url, idleConnectionMs: 150 });
    sim.setLatency(400);
    expect((await fastly.activateVersion(SERVICE, 41)).number).toBe(41);
    sim.setLatency(0);
    await fastly.getService(SERVICE);
    expect(sim.connections).toBe(1);
    expect(sim.connectionsClosedByClient).toBe(0);
    // Left unused, the connection is closed by the client (idle 150 ms), long before the server's own limit.
    await waitUntil('the client to close its unused connection', () => sim.connectionsClosedByClient === 1);
    await fastly.getService(SERVICE);
    expect(sim.connections).toBe(2);
  });

  it('does not keep a process alive with its idle connections', async () => {
    const sim = await simulator();
    // A process that makes two calls and then has nothing left to do, with the connection still open.
    const script = `
      import { FastlyClient } from './src/drivers/fastly/client.ts';
      const fastly = new FastlyClient({ token: process.env.SIM_TOKEN, baseUrl: process.env.SIM_URL });
      await fastly.getService('${SERVICE}');
      await fastly.getService('${SERVICE}');
      console.log('done');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, SIM_TOKEN: sim.token, SIM_URL: sim.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let doneAt: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('done')) doneAt ??= performance.now();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lingered = performance.now() - (doneAt ?? Number.NaN);
    expect(code).toBe(0);
    expect(sim.requests).toHaveLength(2);
    expect(sim.connections).toBe(1);
    // Without unref'd sockets it would wait for the 4 s idle limit (or the server) to close the connection.
    expect(lingered).toBeLessThan(2_000);
  });
});
