import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, type Harness, PEOPLE, SIGNING_SECRET, startHarness } from '../support/harness.js';
import { blockAction, sendToApp, slashCommand } from '../support/slack-payloads.js';
import { textOf } from '../support/slack-simulator.js';
import { waitUntil } from '../support/wait.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('requests that are not what they claim', () => {
  it('refuses a replayed slash command (same signature) with 401 and plans once', async () => {
    h = await startHarness();
    const body = slashCommand({
      text: 'cdn',
      responseUrl: h.slack.newResponseUrl({ channel: CHANNELS.command, userId: PEOPLE.requester }),
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const first = await sendToApp(h.eventsUrl, body, { signingSecret: SIGNING_SECRET, timestampSeconds: timestamp });
    const replay = await sendToApp(h.eventsUrl, body, { signingSecret: SIGNING_SECRET, timestampSeconds: timestamp });
    expect(first.status).toBe(200);
    expect(replay.status).toBe(401);
    // The replay guard answers 401 before Bolt sees the request: no listener ran for the replay. The first
    // one's message is the only one a listener posts.
    await h.awaitRequest();
    expect(h.slack.messages(CHANNELS.command)).toHaveLength(1);
  });

  it('refuses a replayed Approve click, and a forged signature does not burn the real one', async () => {
    h = await startHarness();
    await h.command('cdn');
    const request = await h.awaitRequest();
    const click = blockAction({
      actionId: 'rollback_approve',
      value: request.id,
      userId: PEOPLE.approver,
      channelId: CHANNELS.command,
      messageTs: request.ts,
      responseUrl: h.slack.newResponseUrl({ userId: PEOPLE.approver }),
    });
    const timestamp = Math.floor(Date.now() / 1000);
    expect(
      (await sendToApp(h.eventsUrl, click, { signingSecret: 'wrong-secret', timestampSeconds: timestamp })).status,
    ).toBe(401);
    expect(
      (await sendToApp(h.eventsUrl, click, { signingSecret: SIGNING_SECRET, timestampSeconds: timestamp })).status,
    ).toBe(200);
    expect(
      (await sendToApp(h.eventsUrl, click, { signingSecret: SIGNING_SECRET, timestampSeconds: timestamp })).status,
    ).toBe(401);
    const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /back on v41/.test(textOf(m))),
      10_000,
    );
    // The one approval's click rewrote the request and its job ended (its id is the request id); the replays
    // were answered 401 before any listener ran.
    await h.slack.waitFor((sim) =>
      /Approved\* by/.test(textOf(sim.messages(CHANNELS.command).find((m) => m.ts === request.ts)!)),
    );
    expect(await h.jobEnded(request.id)).toBe('completed');
    expect(h.fastly.activations).toHaveLength(1);
    expect(h.slack.messages(CHANNELS.incident).filter((m) => !m.threadTs)).toHaveLength(1);
  });

  it('writes nothing to Redis for forged requests: the signature is checked before it is remembered', async () => {
    // The Slack app alone: a worker's own traffic (its drift checks run Lua with binary arguments) is not what is
    // watched here, and ioredis's MONITOR reader was seen to choke on it ("Command queue state error").
    h = await startHarness({ mode: 'app' });
    const harness = h;
    // The bot's own keys; BullMQ's (`<prefix>-bull:…`) come and go with its timers, whatever Slack sends.
    const keys = async () => (await harness.redis.keys(`${harness.prefix}:*`)).sort();
    const before = await keys();
    // Every command Redis runs on a replay-guard key, whoever sends it.
    const seenKey = `${harness.prefix}:slack-seen:`;
    const markKey = `${harness.prefix}:monitor-mark:`;
    const touched: string[][] = [];
    const monitor = await harness.redis.monitor();
    const marks = new Set<string>();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((arg) => String(arg).startsWith(seenKey))) touched.push(args.map(String));
      if (String(args[0]).toLowerCase() === 'exists' && String(args[1]).startsWith(markKey)) marks.add(String(args[1]));
    });
    /**
     * Redis shows MONITOR every command in the order it runs them: once it shows a command sent now, it has
     * shown every command that ran before it.
     */
    const monitorCaughtUp = async () => {
      const mark = `${markKey}${marks.size}-${Math.random().toString(36).slice(2)}`;
      await harness.redis.exists(mark);
      await waitUntil('MONITOR to catch up', () => marks.has(mark));
    };
    try {
      const timestamp = Math.floor(Date.now() / 1000);
      const forged = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          sendToApp(
            h!.eventsUrl,
            slashCommand({ text: `cdn flood ${i}`, responseUrl: harness.slack.newResponseUrl() }),
            { signingSecret: 'not-the-secret', timestampSeconds: timestamp },
          ),
        ),
      );
      expect(forged.map((r) => r.status)).toEqual(Array.from({ length: 40 }, () => 401));
      // A body past Bolt's 4 MB limit is not read into memory to be checked: 413.
      const huge = `${slashCommand({ text: 'cdn', responseUrl: harness.slack.newResponseUrl() })}&pad=${'x'.repeat(5 * 1024 * 1024)}`;
      expect(
        (await sendToApp(harness.eventsUrl, huge, { signingSecret: SIGNING_SECRET, timestampSeconds: timestamp }))
          .status,
      ).toBe(413);
      // Every answer came before anything is remembered (401 and 413 are the guard's whole handling); what ran
      // in Redis on the way has reached MONITOR by now.
      await monitorCaughtUp();
      expect(touched).toEqual([]);
      expect(await keys()).toEqual(before);

      // A real request is still remembered once, and its replay refused.
      const body = slashCommand({
        text: 'cdn',
        responseUrl: harness.slack.newResponseUrl({ channel: CHANNELS.command, userId: PEOPLE.requester }),
      });
      expect(
        (await sendToApp(harness.eventsUrl, body, { signingSecret: SIGNING_SECRET, timestampSeconds: timestamp }))
          .status,
      ).toBe(200);
      expect(
        (await sendToApp(harness.eventsUrl, body, { signingSecret: SIGNING_SECRET, timestampSeconds: timestamp }))
          .status,
      ).toBe(401);
      await harness.awaitRequest();
      await monitorCaughtUp();
      expect(touched.filter((args) => args[0]?.toLowerCase() === 'set')).toHaveLength(2);
      expect(await harness.redis.keys(`${seenKey}*`)).toHaveLength(1);
    } finally {
      monitor.disconnect();
    }
    expect(harness.slack.messages(CHANNELS.command)).toHaveLength(1);
  });

  it('refuses a timestamp from the future (401) as Bolt refuses a stale one', async () => {
    h = await startHarness();
    const body = slashCommand({ text: 'cdn', responseUrl: h.slack.newResponseUrl() });
    const inTenMinutes = Math.floor(Date.now() / 1000) + 600;
    expect(
      (await sendToApp(h.eventsUrl, body, { signingSecret: SIGNING_SECRET, timestampSeconds: inTenMinutes })).status,
    ).toBe(401);
    // The 401 is the replay guard's whole handling: no listener ran.
    expect(h.slack.calls.filter((c) => c.method !== 'auth.test')).toHaveLength(0);
    expect(h.fastly.requests).toHaveLength(0);
  });

  it('refuses a button carrying another request id, from another channel', async () => {
    h = await startHarness();
    h.slack.addChannel({ id: 'COTHER', name: 'other' });
    await h.command('cdn', { channel: 'COTHER' });
    const other = await h.awaitRequest('COTHER');
    const forged = blockAction({
      actionId: 'rollback_approve',
      value: other.id,
      userId: PEOPLE.approver,
      channelId: CHANNELS.command,
      messageTs: other.ts,
      responseUrl: h.slack.newResponseUrl({ userId: PEOPLE.approver }),
    });
    expect((await sendToApp(h.eventsUrl, forged, { signingSecret: SIGNING_SECRET })).status).toBe(200);
    expect(
      await h.slack.waitFor(() => h.privateTo(PEOPLE.approver).find((t) => /does not belong to it/.test(t))),
    ).toBeTruthy();
    // The refusal is the last thing the click does.
    expect(await h.jobState(other.id)).toBe('unknown');
    expect(await h.redis.hget(`${h.prefix}:request:${other.id}`, 'state')).toBe('pending');
    expect(h.fastly.activations).toHaveLength(0);
  });

  it('never lets a shell or path string through as a target or version', async () => {
    h = await startHarness();
    for (const text of [
      'cdn;id',
      '$(reboot)',
      '../../etc/passwd',
      'cdn to v1;id',
      'cdn to `id`',
      '--kubeconfig=/tmp/x',
      '<@U123|x>',
    ]) {
      const answer = JSON.parse((await h.command(text)).body) as { response_type: string; text: string };
      expect(answer.response_type, text).toBe('ephemeral');
      expect(answer.text, text).toMatch(/^❌ /);
    }
    // Refused in the acknowledgement itself, which ends the listener: nothing else runs after the answer.
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(h.fastly.requests).toHaveLength(0);
  });

  it('shows no token or secret in any Slack message or log line', async () => {
    h = await startHarness();
    await h.command('cdn');
    const request = await h.awaitRequest();
    await h.click('approve', request, PEOPLE.approver);
    const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /After the rollback/.test(textOf(m))),
      10_000,
    );
    const everything = [JSON.stringify(h.slack.calls), JSON.stringify(h.slack.responses), h.logs.join('')].join('\n');
    for (const secret of [h.slack.botToken, h.fastly.token, SIGNING_SECRET]) expect(everything).not.toContain(secret);
  });
});
