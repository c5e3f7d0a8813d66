import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotWorld, FINAL, type Held, paths, type RequestRef, serviceId } from '../support/processes.js';

/**
 * Fastly answering 429, 5xx or nothing during the rollback, with the real worker process. Each row is its
 * own target and request; all rows run at once on one worker. Faults come from the Fastly simulator
 * (injectFaults: answered instead of Fastly, so Fastly did nothing) or from the HoldingProxy in front of it
 * (Fastly did act, but the worker hears 503 or nothing): the two cases a worker cannot tell apart.
 *
 * The client retries reads up to 3 times (4 tries), honouring Fastly-RateLimit-Reset up to 5 s; it never
 * sends an activation again after a 5xx or a timeout, but re-reads the service to see what is live.
 */
interface Row {
  name: string;
  /** Sets the fault up once the request is planned (the plan's own reads are not faulted). */
  arm: (target: string) => Held | void;
  activations: 0 | 1;
  outcome: 'back on' | 'failed';
  says: string[];
  /** At least this long between the click and the activation: the wait Fastly asked for. */
  minActivationMs?: number;
}

const read = (target: string) => (r: { method: string; path: string }) =>
  r.method === 'GET' && paths.read(target).test(r.path);
const activate = (target: string) => (r: { method: string; path: string }) =>
  r.method === 'PUT' && paths.activate(target).test(r.path);

let world: BotWorld;
const rows: Row[] = [
  {
    name: 'read: 429 twice, reset in 1 s',
    arm: (t) => world.fastly.injectFaults({ status: 429, count: 2, resetSeconds: 1, match: read(t) }),
    activations: 1,
    outcome: 'back on',
    says: ['✅ Checked: v42 is live'],
    minActivationMs: 1_000,
  },
  {
    name: 'read: 503 twice',
    arm: (t) => world.fastly.injectFaults({ status: 503, count: 2, match: read(t) }),
    activations: 1,
    outcome: 'back on',
    says: ['✅ Checked: v42 is live'],
  },
  {
    name: 'read: no answer once (10 s timeout)',
    arm: (t) => world.fastly.injectFaults({ status: 200, count: 1, hang: true, match: read(t) }),
    activations: 1,
    outcome: 'back on',
    says: ['✅ Checked: v42 is live'],
    minActivationMs: 10_000,
  },
  {
    name: 'read: 429 with the reset an hour away',
    arm: (t) => world.fastly.injectFaults({ status: 429, count: 1, resetSeconds: 3600, match: read(t) }),
    activations: 0,
    outcome: 'failed',
    says: [
      'Could not read',
      'so nothing was changed',
      "Fastly's API rate limit is used up (HTTP 429) when trying to read service",
      'Try again after',
    ],
  },
  {
    name: 'read: 503 more times than the retries',
    arm: (t) => world.fastly.injectFaults({ status: 503, count: 10, match: read(t) }),
    activations: 0,
    outcome: 'failed',
    says: [
      'so nothing was changed',
      "Fastly's API failed (HTTP 503: Service Unavailable), 4 attempts, when trying to read service",
    ],
  },
  {
    name: 'activate: 429, reset in 1 s',
    arm: (t) => world.fastly.injectFaults({ status: 429, count: 1, resetSeconds: 1, match: activate(t) }),
    activations: 1,
    outcome: 'back on',
    says: ['✅ Activated v41'],
    minActivationMs: 1_000,
  },
  {
    name: 'activate: 503, Fastly did nothing',
    arm: (t) => world.fastly.injectFaults({ status: 503, count: 1, match: activate(t) }),
    activations: 0,
    outcome: 'failed',
    says: [
      '❌ Rolling back to v41 failed: Activating version 41',
      'the activation may or may not have happened',
      'Re-read: v42 is still live, but the answer to the change never came, so v41 may still go live late: reading again in 5 s.',
      'Re-read after 5 s: v42 is still live; v41 did not go live.',
    ],
  },
  {
    name: 'activate: 503, but Fastly did it',
    arm: (t) => world.gate.hold({ method: 'PUT', path: paths.activate(t), phase: 'response', answerStatus: 503 }),
    activations: 1,
    outcome: 'back on',
    says: [
      '❌ Rolling back to v41 failed: Activating version 41',
      'Re-read: v41 is live after all; verifying.',
      '✅ Verify active version: Fastly reports v41 active',
    ],
  },
  {
    name: 'activate: no answer, Fastly did nothing',
    arm: (t) => world.fastly.injectFaults({ status: 200, count: 1, hang: true, match: activate(t) }),
    activations: 0,
    outcome: 'failed',
    says: [
      'no answer within 10000 ms',
      'the activation may or may not have happened',
      'Re-read: v42 is still live, but the answer to the change never came, so v41 may still go live late: reading again in 5 s.',
      'Re-read after 5 s: v42 is still live; v41 did not go live.',
    ],
  },
  {
    name: 'activate: no answer, but Fastly did it',
    arm: (t) => world.gate.hold({ method: 'PUT', path: paths.activate(t), phase: 'response' }),
    activations: 1,
    outcome: 'back on',
    says: [
      'no answer within 10000 ms',
      'Re-read: v41 is live after all; verifying.',
      '✅ Verify active version: Fastly reports v41 active',
    ],
  },
];

beforeAll(async () => {
  world = await BotWorld.start({ targets: rows.length });
  await world.startApp();
  await world.startWorker();
});
afterAll(async () => world?.close());

describe('Fastly failing during the rollback', () => {
  it('retries reads within bounds, honouring rate-limit headers, fails clearly, and never activates twice', async () => {
    const requests: RequestRef[] = await Promise.all(rows.map((_, i) => world.request(world.targets[i]!)));
    rows.forEach((row, i) => {
      row.arm(world.targets[i]!);
    });
    const clicked = await Promise.all(requests.map((r) => world.approve(r)));
    const threads = await Promise.all(requests.map((r) => world.finished(r, 40_000)));

    const report: string[] = [];
    rows.forEach((row, i) => {
      const target = world.targets[i]!;
      const thread = threads[i]!;
      const where = `${row.name}:\n${thread.join('\n')}`;
      const all = thread.join('\n');
      expect(world.activations(target), where).toBe(row.activations);
      expect(world.activeVersion(target), where).toBe(row.activations === 1 ? 41 : 42);
      for (const words of row.says) expect(all, where).toContain(words);
      const finals = thread.filter((t) => FINAL.test(t));
      expect(finals, where).toHaveLength(1);
      expect(finals[0], where).toContain(
        row.outcome === 'back on' ? `*${target} is back on v41*, verified.` : `*Rollback of ${target} failed*`,
      );
      const activation = world.fastly.activations.find((a) => a.serviceId === serviceId(target));
      const activationMs = activation ? Date.parse(activation.at) - clicked[i]! : undefined;
      if (row.minActivationMs !== undefined)
        expect(activationMs, where).toBeGreaterThanOrEqual(row.minActivationMs - 50);
      const finalAt = world.slack.calls.find(
        (c) =>
          c.method === 'chat.postMessage' &&
          FINAL.test(String(c.args.text)) &&
          c.args.thread_ts === world.notice(requests[i]!)?.ts,
      )?.at;
      report.push(
        `${row.name.padEnd(42)} activations ${row.activations}  ${row.outcome.padEnd(7)}  click → activation ${activationMs ?? '—'} ms, → final message ${finalAt ? finalAt - clicked[i]! : '?'} ms`,
      );
    });
    // Every PUT …/activate Fastly received, per service: at most one that Fastly did not refuse with 429
    // (a 429 means it did nothing, so that one may be sent again after the wait).
    for (const target of world.targets) {
      const puts = world.fastly.requests.filter(
        (r) => r.method === 'PUT' && paths.activate(target).test(r.path) && r.status !== 429,
      );
      expect(puts.length, target).toBeLessThanOrEqual(1);
    }
    console.log(`Fastly failing:\n${report.map((r) => `  ${r}`).join('\n')}`);
  });
});
