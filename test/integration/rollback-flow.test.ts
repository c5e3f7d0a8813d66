import { afterEach, describe, expect, it } from 'vitest';
import { CDN_SERVICE, CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { textOf } from '../support/slack-simulator.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('a Fastly rollback through Slack', () => {
  it('plans, asks for approval, rolls back to the previous version and reports every step', async () => {
    h = await startHarness();
    const command = await h.command('cdn elevated 5xx after deploy');
    expect(command.status).toBe(200);
    expect(command.body).toContain('Planning a rollback of `cdn`');

    const request = await h.awaitRequest();
    const shown = textOf(request.message);
    expect(shown).toContain('www-prod');
    expect(shown).toMatch(/Live now:\* \*v42\*/);
    expect(shown).toMatch(/Restore:\* \*v41\*/);
    expect(shown).toContain('<@UREQ>');
    expect(shown).toContain('elevated 5xx after deploy');
    expect(shown).toContain('Approve rollback to v41');
    expect(shown).toContain('Cancel');
    expect(h.fastly.activations).toHaveLength(0);

    const click = await h.click('approve', request, PEOPLE.approver);
    expect(click.status).toBe(200);

    const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
    expect(notice.text).toBe('Rolling back cdn to v41');
    const final = await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on v41/.test(textOf(m))),
      10_000,
    );
    expect(textOf(final)).toMatch(/\d+ ms from approval, within the runbook's 60 s target/);
    expect(h.fastly.activations).toEqual([expect.objectContaining({ serviceId: CDN_SERVICE, version: 41 })]);
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);

    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf);
    expect(thread.some((t) => /✅ Checked: v42 is live/.test(t))).toBe(true);
    expect(thread.some((t) => /✅ Activated v41 \(\d+ ms\)/.test(t))).toBe(true);
    expect(thread.some((t) => /✅ Verify active version: Fastly reports v41 active/.test(t))).toBe(true);

    const updated = h.slack.messages(CHANNELS.command).find((m) => m.ts === request.ts);
    expect(textOf(updated!)).toContain('Approved* by <@UAPP>');
    expect(textOf(updated!)).not.toContain('Approve rollback to v41');
    await h.slack.waitFor((sim) =>
      /done in/.test(textOf(sim.messages(CHANNELS.incident).find((m) => m.ts === notice.ts)!)),
    );

    // Debug logs of the whole flow carry no secret.
    const logs = h.logs.join('');
    expect(logs.length).toBeGreaterThan(1_000);
    for (const secret of [h.slack.botToken, h.fastly.token, 'test-signing-secret']) expect(logs).not.toContain(secret);
  });

  it('works with the Slack app and workers run apart: exactly one worker takes the job', async () => {
    h = await startHarness({ mode: 'app' });
    await Promise.all([h.startWorker(), h.startWorker()]);
    await h.command('cdn split mode');
    const request = await h.awaitRequest();
    await h.click('approve', request, PEOPLE.approver);
    const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on v41/.test(textOf(m))),
      10_000,
    );
    // The job has ended (its thread flushed): no other worker can run it now.
    expect(await h.jobEnded(request.id)).toBe('completed');
    expect(h.fastly.activations).toHaveLength(1);
    expect(h.slack.thread(CHANNELS.incident, notice.ts).filter((m) => /Worker started/.test(textOf(m)))).toHaveLength(
      1,
    );
  });

  it('queues nothing while no worker runs, and a worker started later picks the job up', async () => {
    h = await startHarness({ mode: 'app', pickupWarningMs: 200 });
    await h.command('cdn');
    const request = await h.awaitRequest();
    await h.click('approve', request, PEOPLE.approver);
    await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
    const notice = h.slack.messages(CHANNELS.incident).find((m) => !m.threadTs)!;
    await h.slack.waitFor((sim) =>
      sim.thread(CHANNELS.incident, notice.ts).find((m) => /No worker has started this rollback/.test(textOf(m))),
    );
    expect(h.fastly.activations).toHaveLength(0);
    await h.startWorker();
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on v41/.test(textOf(m))),
      10_000,
    );
    expect(h.fastly.activations).toHaveLength(1);
  });

  it('notifies first without waiting on Slack: the plan is re-read while Slack takes the notice, the change comes after it', async () => {
    h = await startHarness();
    await h.command('cdn');
    const request = await h.awaitRequest();
    h.slack.setLatency(400);
    const clicked = Date.now();
    await h.click('approve', request, PEOPLE.approver);
    const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs), 10_000);
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on v41/.test(textOf(m))),
      15_000,
    );
    const noticeTaken = h.slack.calls.find(
      (c) => c.method === 'chat.postMessage' && c.ok && c.args.channel === CHANNELS.incident && !c.args.thread_ts,
    )!.at;
    const firstRead = Math.min(...h.fastly.requests.map((r) => Date.parse(r.startedAt)).filter((at) => at >= clicked));
    const activated = Date.parse(h.fastly.activations[0]!.at);
    expect(firstRead).toBeLessThan(noticeTaken);
    expect(activated).toBeGreaterThanOrEqual(noticeTaken);
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');
    expect(thread).toMatch(/Checked: v42 is live[\s\S]*Activated v41[\s\S]*back on v41/);
    expect(thread).not.toContain('has not taken the');
  });

  it('does not hold the rollback while Slack is slow to take the notice; the thread catches up, in order', async () => {
    h = await startHarness();
    await h.command('cdn');
    const request = await h.awaitRequest();
    // Every Slack call now takes 2 s: longer than an approval waits for the notice (1.5 s).
    h.slack.setLatency(2_000);
    const clicked = Date.now();
    await h.click('approve', request, PEOPLE.approver);
    await h.slack.waitFor(() => h.fastly.activations[0], 5_000);
    const activatedAfter = Date.parse(h.fastly.activations[0]!.at) - clicked;
    expect(activatedAfter).toBeLessThan(1_900);
    const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs), 10_000);
    expect(notice.text).toBe('Rolling back cdn to v41');
    const final = await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on v41/.test(textOf(m))),
      30_000,
    );
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf);
    const order = [
      'Worker started',
      'Checked: v42 is live',
      'Activated v41',
      'Verify active version',
      'back on v41',
    ].map((text) => thread.findIndex((t) => t.includes(text)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(final).toBeTruthy();
  }, 45_000);
});
