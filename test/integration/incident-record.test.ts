import { afterEach, describe, expect, it } from 'vitest';
import { CDN_SERVICE, CHANNELS, type Harness, PEOPLE, SIGNING_SECRET, startHarness } from '../support/harness.js';
import { blockAction, sendToApp } from '../support/slack-payloads.js';
import { type SimMessage, textOf } from '../support/slack-simulator.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function rollBack(reason = 'elevated 5xx'): Promise<{ id: string; notice: SimMessage }> {
  const before = h.slack.messages(CHANNELS.command).filter((m) => !m.threadTs).length;
  await h.command(`cdn ${reason}`);
  await h.slack.waitFor((sim) => sim.messages(CHANNELS.command).filter((m) => !m.threadTs).length > before);
  const request = await h.awaitRequest();
  const notices = h.slack.messages(CHANNELS.incident).filter((m) => !m.threadTs).length;
  await h.click('approve', request, PEOPLE.approver);
  const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).filter((m) => !m.threadTs)[notices]);
  await h.slack.waitFor(
    (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /After the rollback/.test(textOf(m))),
    10_000,
  );
  return { id: request.id, notice };
}

async function privately(user: string, pattern: RegExp): Promise<string> {
  return h.slack.waitFor(() => h.privateTo(user).find((t) => pattern.test(t)));
}

describe('the incident record', () => {
  it('ends the thread with the runbook checklist and posts the record as markdown on request', async () => {
    h = await startHarness();
    const { id, notice } = await rollBack();
    const checklist = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /After the rollback/.test(textOf(m)))!;
    const text = textOf(checklist);
    expect(text).toContain('Preserve evidence');
    expect(text).toContain('Fix forward and restore symmetry: revert in git what came after v41');
    const deadline = new Date(Date.now() + 48 * 3_600_000);
    expect(text).toContain(
      `Blameless post-mortem by ${deadline.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })}`,
    );
    expect(text).toContain('Incident record');

    const click = blockAction({
      actionId: 'rollback_record',
      value: id,
      userId: PEOPLE.stranger,
      channelId: CHANNELS.incident,
      messageTs: checklist.ts,
      responseUrl: h.slack.newResponseUrl({ userId: PEOPLE.stranger }),
    });
    expect((await sendToApp(h.eventsUrl, click, { signingSecret: SIGNING_SECRET })).status).toBe(200);
    const record = textOf(
      await h.slack.waitFor((sim) =>
        sim.messages(CHANNELS.incident).find((m) => /Incident record for/.test(textOf(m))),
      ),
    );
    expect(record).toContain('# Rollback of cdn: v42 → v41');
    expect(record).toContain('Requested by: <@UREQ>');
    expect(record).toContain('— "elevated 5xx"');
    expect(record).toContain('Approved by: <@UAPP>');
    expect(record).toMatch(/Approval → end: \d+ ms \(target 60 s: met\)/);
    for (const kind of ['requested', 'approved', 'queued', 'started', 'step', 'finished'])
      expect(record).toMatch(new RegExp(`\\| \\d\\d:\\d\\d:\\d\\d \\| (✅ |❌ )?${kind}:`));
    expect(record).toContain('✅ step: Activated v41');
    expect(record).toContain('## Verification');
    expect(record).toContain('- ✅ Active version: Fastly reports v41 active');
    expect(record).toContain('- [ ] Blameless post-mortem by');
  });

  it('lists past rollbacks with outcome and duration', async () => {
    h = await startHarness();
    await h.command('cdn first');
    const cancelled = await h.awaitRequest();
    await h.click('cancel', cancelled, PEOPLE.requester);
    await h.slack.waitFor((sim) =>
      /Cancelled/.test(textOf(sim.messages(CHANNELS.command).find((m) => m.ts === cancelled.ts)!)),
    );
    await rollBack('second');

    await h.command('history');
    const history = await privately(PEOPLE.requester, /Last rollbacks/);
    const lines = history.split('\n');
    expect(lines[1]).toMatch(/✅ .* `cdn` v42 → v41: succeeded in \d+ ms — asked by <@UREQ>, approved by <@UAPP>/);
    expect(lines[2]).toMatch(/✖️ .* `cdn` v42 → v41: cancelled — asked by <@UREQ>/);

    await h.command('history nope');
    expect(await privately(PEOPLE.requester, /no target called "nope"/)).toBeTruthy();
  });

  it('shows a target as diverged from git after a rollback, until a newer version is deployed', async () => {
    h = await startHarness();
    await rollBack();
    await h.command('status');
    const status = await privately(PEOPLE.requester, /Rollback targets/);
    expect(status).toContain('*v41*');
    expect(status).toContain('⚠️ diverged from git since the rollback from v42');

    h.fastly.addVersion(CDN_SERVICE, { number: 43, locked: true });
    h.fastly.activateOutOfBand(CDN_SERVICE, 43);
    const seen = h.privateTo(PEOPLE.requester).length;
    await h.command('status');
    const after = await h.slack.waitFor(() =>
      h
        .privateTo(PEOPLE.requester)
        .slice(seen)
        .find((t) => /Rollback targets/.test(t)),
    );
    expect(after).toContain('*v43*');
    expect(after).not.toContain('diverged');
  });
});
