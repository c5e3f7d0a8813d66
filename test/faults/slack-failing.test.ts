import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOUNCE_WAIT_MS } from '../../src/core/run-rollback.js';
import { silentLogger } from '../../src/log.js';
import { createSlackClient } from '../../src/slack/app.js';
import { SlackThreadReporter } from '../../src/slack/thread-reporter.js';
import { BotWorld, FINAL, paths, type RequestRef, serviceId, sleep, waitUntil } from '../support/processes.js';
import { type SimCall, SlackSimulator } from '../support/slack-simulator.js';

/**
 * Slack answering 429 with Retry-After, or 5xx, for a while, with the real app and worker processes: the
 * rollback goes on at its own pace; the thread arrives late, complete and in order; a progress message is
 * edited at most about once a second. The Slack simulator's injectErrors answers the next N calls with the
 * error, whoever makes them.
 */
let world: BotWorld;
/** Approve click → Fastly activation with Slack healthy, ms. */
let baselineMs: number;
const figures: string[] = [];

beforeAll(async () => {
  world = await BotWorld.start({ targets: 4, kube: { readyDelayMs: 700, replicas: 2 } });
  await world.startApp();
  await world.startWorker();
  // Two rollbacks with Slack healthy; the second (warm) one is the baseline.
  for (const target of ['cdn-01', 'cdn-04']) {
    const request = await world.request(target);
    const clicked = await world.approve(request);
    await world.finished(request);
    baselineMs = activatedAt(target) - clicked;
  }
});
afterAll(async () => {
  console.log(
    `Slack failing:\n  approve → Fastly activation with Slack healthy: ${baselineMs} ms\n${figures.map((f) => `  ${f}`).join('\n')}`,
  );
  await world?.close();
});

function activatedAt(target: string): number {
  const activation = world.fastly.activations.find((a) => a.serviceId === serviceId(target));
  if (!activation) throw new Error(`${target} was not activated`);
  return Date.parse(activation.at);
}

/** Successful chat.postMessage calls in the request's thread, in the order Slack took them. */
function threadPosts(request: RequestRef): SimCall[] {
  const ts = world.notice(request)?.ts;
  return world.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.ok && c.args.thread_ts === ts);
}

/** A Fastly rollback's thread, in order, each step once (steps close together share a message). */
function expectWholeThread(thread: string[], target: string) {
  const steps = [
    /^ℹ️ Worker started \d+ ms after approval\.$/m,
    /^✅ Checked: v42 is live on Fastly service/m,
    /^✅ Activated v41/m,
    /^✅ Verify active version: Fastly reports v41 active/m,
    new RegExp(`^✅ \\*${target} is back on v41\\*, verified\\.`, 'm'),
    /^📋 \*After the rollback\*/m,
  ];
  const text = thread.join('\n');
  let from = 0;
  for (const step of steps) {
    expect(
      thread.filter((message) => step.test(message)),
      text,
    ).toHaveLength(1);
    const at = text.slice(from).search(step);
    expect(at, `${step} after the steps before it in:\n${text}`).toBeGreaterThanOrEqual(0);
    from += at + 1;
  }
}

describe('Slack failing for a while', () => {
  it('429 with Retry-After on every call: Fastly is activated on time; the thread comes later, whole and in order', async () => {
    const request = await world.request('cdn-02');
    // Every call fails for a while: the notice, the request message's update, the worker's steps.
    world.slack.injectErrors({ method: '*', count: 4, status: 429, retryAfterSeconds: 1 });
    const clicked = await world.approve(request);
    await waitUntil('the activation', () => world.activations('cdn-02') === 1);
    const activationMs = activatedAt('cdn-02') - clicked;
    // The change waits at most ANNOUNCE_WAIT_MS for the notice (the runbook: notify first), then goes ahead anyway.
    expect(activationMs).toBeLessThan(baselineMs + ANNOUNCE_WAIT_MS + 500);

    await world.finished(request, 90_000);
    // Its job has ended, the thread flushed: a step posted twice or late would be there by now.
    expect(await world.jobEnded(request)).toBe('completed');
    expectWholeThread(world.thread(request), 'cdn-02');
    // In the order Slack took them, which is the order they happened.
    expect(threadPosts(request).map((c) => String(c.args.text).split('\n')[0])).toEqual(
      world.thread(request).map((t) => t.split('\n')[0]),
    );
    const threadAt = threadPosts(request)[0]!.at - clicked;
    figures.push(
      `429 (Retry-After 1 s) × 4 on every method: Fastly activated ${activationMs} ms after the click; the thread's first step arrived after ${threadAt} ms`,
    );
  });

  it('5xx on chat.postMessage while the worker reports, longer than the Web API client retries: no step is lost', async () => {
    const request = await world.request('cdn-03');
    const held = world.gate.hold({ method: 'GET', path: paths.read('cdn-03'), phase: 'request' });
    const clicked = await world.approve(request);
    await held.reached;
    await waitUntil('the first step', () => world.thread(request).length === 1);
    // The worker's Web API client tries a message 6 times over about 6 s; 9 failures in a row outlast that.
    world.slack.injectErrors({ method: 'chat.postMessage', count: 9, status: 503 });
    held.release();
    await waitUntil('the activation', () => world.activations('cdn-03') === 1);
    const activationMs = activatedAt('cdn-03') - clicked;
    const thread = await world.finished(request, 90_000);
    expect(await world.jobEnded(request)).toBe('completed');
    expectWholeThread(world.thread(request), 'cdn-03');
    expect(thread.join('\n')).toMatch(/verified\. \d+ ms from approval/); // measured when it was done, not when Slack took it
    const failed = world.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 503).length;
    figures.push(
      `503 × ${failed} on chat.postMessage while reporting: Fastly activated ${activationMs} ms after the click; the thread was whole ${threadPosts(request).at(-1)!.at - clicked} ms after it`,
    );
  });

  it('progress of a Kubernetes rollout while chat.update answers 429: one message, edited at most once a second, ending complete', async () => {
    const request = await world.request('web');
    const clicked = await world.approve(request);
    await waitUntil('the first progress line', () => world.thread(request).some((t) => t.startsWith('⏳')), 15_000);
    world.slack.injectErrors({ method: 'chat.update', count: 3, status: 429, retryAfterSeconds: 2 });
    const thread = await world.finished(request, 90_000);
    const progress = thread.filter((t) => t.startsWith('⏳'));
    expect(progress, thread.join('\n')).toHaveLength(1);
    expect(progress[0]).toContain('⏳ Waiting for deployment "web" rollout to finish');
    expect(thread.join('\n')).toMatch(/✅ Verify rollout of deployment\/web: deployment "web" successfully rolled out/);
    // The rollout was not slowed by Slack: its duration is what the cluster took.
    const fromApproval = Number(
      /verified\. ([\d.]+) s from approval/.exec(thread.find((t) => FINAL.test(t)) ?? '')?.[1],
    );
    expect(fromApproval).toBeLessThan(5);

    const progressTs = world.slack.messages('CINC').find((m) => m.threadTs && (m.text ?? '').startsWith('⏳'))?.ts;
    const edits = world.slack.calls
      .filter((c) => c.method === 'chat.update' && c.args.ts === progressTs)
      .map((c) => c.at);
    expect(edits.length).toBeGreaterThan(0);
    const gaps = edits.slice(1).map((at, i) => at - edits[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(900);
    figures.push(
      `Kubernetes rollout with chat.update 429 (Retry-After 2 s) × 3: ${edits.length} edits of the progress message, gaps ${gaps.join(', ')} ms; rollout verified ${fromApproval} s after approval, the thread complete ${Date.now() - clicked} ms after the click`,
    );
  });
});

describe('the thread reporter on its own, against the Slack simulator', () => {
  it('a rollout streaming a line every 250 ms while chat.update is rate-limited: edits stay a second apart, none is stale', async () => {
    // The Kubernetes simulator's rollouts say two or three different things; this one says twelve, over 3 s.
    const slack = await SlackSimulator.start();
    slack.addChannel({ id: 'CINC', name: 'incidents' });
    try {
      const client = createSlackClient({ botToken: slack.botToken, apiUrl: slack.apiUrl }, silentLogger());
      const root = await client.chat.postMessage({ channel: 'CINC', text: 'Rolling back web to revision 1' });
      const reporter = new SlackThreadReporter(client, { channel: 'CINC', ts: root.ts! }, undefined, silentLogger());
      const lines = Array.from({ length: 12 }, (_, i) => `${i + 1} of 12 updated replicas are available...`);
      for (const [i, line] of lines.entries()) {
        reporter.report({ status: 'progress', text: line });
        if (i === 1) slack.injectErrors({ method: 'chat.update', count: 1, status: 429, retryAfterSeconds: 3 });
        await sleep(250); // the rollout's pace: the fault this test makes, not a wait for something to happen
      }
      reporter.report({ status: 'ok', text: 'Verify rollout: successfully rolled out' });
      await reporter.flush();

      const thread = slack.thread('CINC', root.ts!);
      expect(thread.map((m) => m.text)).toEqual([
        lines.map((l) => `⏳ ${l}`).join('\n'),
        '✅ Verify rollout: successfully rolled out',
      ]);
      const edits = slack.calls
        .filter((c) => c.method === 'chat.update' && c.args.ts === thread[0]!.ts)
        .map((c) => c.at);
      const gaps = edits.slice(1).map((at, i) => at - edits[i]!);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
      // Lines that came while Slack was rate-limiting went out together, not one stale edit each.
      expect(edits.length).toBeLessThan(lines.length - 1);
      figures.push(
        `reporter alone, 12 progress lines over 3 s, chat.update 429 (Retry-After 3 s) once: ${edits.length} edits, gaps ${gaps.join(', ')} ms`,
      );
    } finally {
      await slack.close();
    }
  });
});
