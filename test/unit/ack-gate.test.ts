import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ackGate } from '../../src/slack/ack-gate.js';

/** A gate in front of a real HTTP server; each request's handler is told how to answer it. */
async function serve(gate: ReturnType<typeof ackGate>, handle: (answer: () => void, path: string) => void) {
  const server = createServer(gate.wrap((req, res) => handle(() => res.writeHead(200).end('ok'), req.url ?? '')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const post = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ port: (server.address() as AddressInfo).port, path, method: 'POST' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  return { server, post };
}

function deferred() {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe('the ack gate (answers first, work after)', () => {
  it('answers a click while the approvals before it hold every slot, and queues its work', async () => {
    const gate = ackGate(60_000, 1);
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const served = await serve(gate, (answer, path) => {
      answer();
      void gate.run(async () => {
        started.push(path);
        const done = deferred();
        finish.set(path, done.resolve);
        await done.promise;
      });
    });
    server = served.server;
    expect(await served.post('/first')).toBe(200);
    await expect.poll(() => started).toEqual(['/first']);
    // The only slot is held by the first approval's work: the second click is still answered.
    expect(await served.post('/second')).toBe(200);
    expect(started).toEqual(['/first']);
    finish.get('/first')?.();
    await expect.poll(() => started).toEqual(['/first', '/second']);
    finish.get('/second')?.();
  });

  it('starts work only once the requests still waiting for an answer have it', async () => {
    const gate = ackGate(60_000, 4);
    const answers = new Map<string, () => void>();
    const served = await serve(gate, (answer, path) => answers.set(path, answer));
    server = served.server;
    const slow = served.post('/unanswered');
    await expect.poll(() => gate.unanswered()).toBe(1);
    let ran = false;
    const work = gate.run(async () => {
      ran = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toBe(false);
    answers.get('/unanswered')?.();
    expect(await slow).toBe(200);
    await work;
    expect(ran).toBe(true);
    expect(gate.unanswered()).toBe(0);
  });
});
