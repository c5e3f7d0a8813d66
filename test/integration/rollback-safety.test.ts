import { afterEach, describe, expect, it } from 'vitest';
import { RedisRequestStore } from '../../src/store/redis-request-store.js';
import {
  CDN_SERVICE,
  CHANNELS,
  type Harness,
  type HarnessOptions,
  PEOPLE,
  SIGNING_SECRET,
  startHarness,
} from '../support/harness.js';
import { fastlyTarget } from '../support/rollback-yml.js';
import { blockAction, sendToApp, slashCommand } from '../support/slack-payloads.js';
import { textOf } from '../support/slack-simulator.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function start(options?: HarnessOptions) {
  h = await startHarness(options);
  return h;
}

/** The incident thread's messages once the rollback's last message is there. */
async function finishedThread(
  expect: RegExp = /\*(cdn is back on|Rollback of cdn (failed|stopped))/,
): Promise<string[]> {
  const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
  await h.slack.waitFor((sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => expect.test(textOf(m))), 10_000);
  return h.slack.thread(CHANNELS.incident, notice.ts).map(textOf);
}

async function requestOf(text: string, user: string = PEOPLE.requester) {
  const before = h.slack.messages(CHANNELS.command).length;
  const command = await h.command(text, { user });
  expect(command.status).toBe(200);
  await h.slack.waitFor((sim) => sim.messages(CHANNELS.command).length > before);
  return h.awaitRequest();
}

/** The request's state as Redis holds it. */
const requestState = (id: string) => h.redis.hget(`${h.prefix}:request:${id}`, 'state');

/**
 * What Redis holds once the request's TTL has run out: an expiry a minute ago. The bot in the harness reads
 * the real clock (`run` takes none), so the expiry moves instead of the clock.
 */
async function expireInRedis(id: string): Promise<void> {
  const key = `${h.prefix}:request:${id}`;
  const data = JSON.parse((await h.redis.hget(key, 'data')) ?? '{}') as { expiresAt?: number };
  const expiresAt = Date.now() - 60_000;
  await h.redis.hset(key, { expiresAt: String(expiresAt), data: JSON.stringify({ ...data, expiresAt }) });
}

const lastPrivate = async (user: string, pattern: RegExp) =>
  h.slack.waitFor(() => h.privateTo(user).find((t) => pattern.test(t)));

describe('requests Slack did not send', () => {
  it('answers 401 to a forged signature or a stale timestamp, and does nothing', async () => {
    await start();
    const body = slashCommand({ text: 'cdn', responseUrl: h.slack.newResponseUrl() });
    expect((await sendToApp(h.eventsUrl, body, { signingSecret: SIGNING_SECRET, forgeSignature: true })).status).toBe(
      401,
    );
    expect((await sendToApp(h.eventsUrl, body, { signingSecret: 'not-the-secret' })).status).toBe(401);
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    expect(
      (await sendToApp(h.eventsUrl, body, { signingSecret: SIGNING_SECRET, timestampSeconds: tenMinutesAgo })).status,
    ).toBe(401);
    // A 401 is the whole of the bot's handling: the signature and timestamp are checked before any listener
    // runs, and a listener that ran would have answered 200 with its ack.
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(h.fastly.requests).toHaveLength(0);
  });

  it('refuses a button forged with a request id from another message', async () => {
    await start();
    const request = await requestOf('cdn');
    const forged = blockAction({
      actionId: 'rollback_approve',
      value: request.id,
      userId: PEOPLE.approver,
      channelId: CHANNELS.command,
      messageTs: '1111111111.000001',
      responseUrl: h.slack.newResponseUrl({ userId: PEOPLE.approver }),
    });
    expect((await sendToApp(h.eventsUrl, forged, { signingSecret: SIGNING_SECRET })).status).toBe(200);
    expect(await lastPrivate(PEOPLE.approver, /does not belong to it/)).toBeTruthy();
    expect(h.fastly.activations).toHaveLength(0);
    expect(h.slack.messages(CHANNELS.incident)).toHaveLength(0);
  });
});

describe('bad input', () => {
  it('names the known targets for an unknown one, privately, and queues nothing', async () => {
    await start();
    const command = await h.command('cnd spike');
    expect(command.status).toBe(200);
    const answer = JSON.parse(command.body) as { response_type: string; text: string };
    expect(answer.response_type).toBe('ephemeral');
    expect(answer.text).toContain('There is no target called "cnd". Did you mean `cdn`?');
    expect(answer.text).toContain('Known targets: `cdn`');
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(h.fastly.requests).toHaveLength(0);
  });

  it('explains malformed text and answers help', async () => {
    await start();
    const bad = JSON.parse((await h.command('cdn to latest')).body) as { text: string };
    expect(bad.text).toContain('name a version like `v41`');
    const help = JSON.parse((await h.command('help')).body) as { text: string };
    expect(help.text).toContain('/rollback <target> to v<N> [reason]');
    expect(help.text).toContain('`cdn`');
    expect(help.text).toContain('/rollback <target or group>… [reason]');
  });

  it('lists targets with their live version', async () => {
    await start();
    await h.command('list');
    const listed = await lastPrivate(PEOPLE.requester, /Rollback targets/);
    expect(listed).toContain('`cdn` — Fastly service www-prod');
    expect(listed).toContain('*v42*');
  });

  it('says when the version was inferred because the activation history is unreadable', async () => {
    await start({
      services: [{ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42, activationHistory: [40, 42] }],
    });
    h.fastly.setEventsForbidden(true);
    const request = await requestOf('cdn');
    const shown = textOf(request.message);
    expect(shown).toContain('⚠️ Inferred, not read from history');
    expect(shown).toContain('The activation history could not be read');
    expect(shown).toMatch(/Restore:\* \*v41\*/);
  });

  it('follows the activation history rather than version numbers', async () => {
    await start({
      services: [{ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42, activationHistory: [38, 42] }],
    });
    const request = await requestOf('cdn');
    expect(textOf(request.message)).toMatch(/Restore:\* \*v38\*/);
  });

  it('refuses an explicit version that never served traffic', async () => {
    await start({
      services: [
        {
          id: CDN_SERVICE,
          name: 'www-prod',
          versions: [{ number: 40 }, { number: 41 }, { number: 42 }, { number: 43, locked: false }],
          active: 42,
        },
      ],
    });
    await h.command('cdn to v43');
    expect(await lastPrivate(PEOPLE.requester, /v43 of www-prod is a draft that was never activated/)).toBeTruthy();
    expect(h.slack.messages(CHANNELS.command)).toHaveLength(0);
  });
});

describe('who may approve', () => {
  it("a target's own approvers: cdn's approver is refused for pay, told who can; pay's approver rolls it back", async () => {
    const payService = 'SU1Z0isxPaozGVKXdvPAY';
    await start({
      services: [
        { id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 },
        { id: payService, name: 'pay-prod', versions: 7, active: 7 },
      ],
      extraTargets: fastlyTarget('pay', payService, ['    approvers: [UPAY, S0SRE]']).join('\n'),
    });
    const request = await requestOf('pay');
    expect(textOf(request.message)).toContain('Approvers: <@UPAY>, <!subteam^S0SRE> (not the requester)');

    await h.click('approve', request, PEOPLE.approver);
    expect(await lastPrivate(PEOPLE.approver, /not an approver/)).toMatch(
      /You are not an approver for pay\.[\s\S]*Approvers for pay: <@UPAY>, <!subteam\^S0SRE>\. Nothing was queued\./,
    );
    expect(h.fastly.activations).toHaveLength(0);
    expect(await requestState(request.id)).toBe('pending');

    // cdn has no list of its own: the file's approvers still approve it, and pay's do not.
    const cdn = await requestOf('cdn');
    expect(textOf(cdn.message)).toContain('Approvers: <@UAPP>, <!subteam^S0SRE>');
    await h.click('approve', cdn, 'UPAY');
    expect(await lastPrivate('UPAY', /not an approver/)).toContain('You are not an approver for rollbacks.');

    await h.click('approve', request, 'UPAY');
    await h.slack.waitFor(() => h.fastly.activations.length === 1, 10_000);
    expect(h.fastly.activations[0]).toMatchObject({ serviceId: payService, version: 6 });
  });

  it('refuses an approver who is not listed, privately; a listed one can still approve after', async () => {
    await start();
    const request = await requestOf('cdn');
    await h.click('approve', request, PEOPLE.stranger);
    expect(await lastPrivate(PEOPLE.stranger, /You are not an approver/)).toContain('<@UAPP>');
    expect(h.fastly.activations).toHaveLength(0);
    expect(h.slack.messages(CHANNELS.incident)).toHaveLength(0);

    await h.click('approve', request, PEOPLE.groupMember);
    await finishedThread();
    expect(h.fastly.activations).toHaveLength(1);
  });

  it('refuses self-approval, even by an approver', async () => {
    await start();
    const request = await requestOf('cdn', PEOPLE.approver);
    await h.click('approve', request, PEOPLE.approver);
    expect(
      await lastPrivate(PEOPLE.approver, /You asked for this rollback, so someone else must approve it/),
    ).toBeTruthy();
    // The refusal is the last thing the click does: by now it has queued whatever it was going to queue.
    expect(await h.jobState(request.id)).toBe('unknown');
    expect(await requestState(request.id)).toBe('pending');
    expect(h.fastly.activations).toHaveLength(0);
  });

  it('allows self-approval when configured', async () => {
    await start({ allowSelfApproval: true });
    const request = await requestOf('cdn', PEOPLE.approver);
    await h.click('approve', request, PEOPLE.approver);
    await finishedThread();
    expect(h.fastly.activations).toHaveLength(1);
  });

  it('runs exactly one rollback when two approvers click at once, twice each', async () => {
    await start();
    const request = await requestOf('cdn');
    await Promise.all([
      h.click('approve', request, PEOPLE.approver),
      h.click('approve', request, PEOPLE.groupMember),
      h.click('approve', request, PEOPLE.approver),
      h.click('approve', request, PEOPLE.groupMember),
    ]);
    await finishedThread();
    // Every click has been handled to its end: three refusals, and one approval that rewrote the request;
    // the one job (its id is the request id) has ended, its thread flushed.
    const refusals = await h.slack.waitFor(() => {
      const all = [...h.privateTo(PEOPLE.approver), ...h.privateTo(PEOPLE.groupMember)];
      const refused = all.filter((t) => /already approved by/.test(t));
      return refused.length >= 3 && refused;
    });
    await h.slack.waitFor((sim) =>
      /Approved\* by/.test(textOf(sim.messages(CHANNELS.command).find((m) => m.ts === request.ts)!)),
    );
    expect(await h.jobEnded(request.id)).toBe('completed');
    expect(refusals).toHaveLength(3);
    expect(h.fastly.activations).toHaveLength(1);
    expect(h.slack.messages(CHANNELS.incident).filter((m) => !m.threadTs)).toHaveLength(1);
  });
});

describe('cancel and expiry', () => {
  it('lets the requester cancel; a later approval is refused', async () => {
    await start();
    const request = await requestOf('cdn');
    await h.click('cancel', request, PEOPLE.requester);
    await h.slack.waitFor((sim) =>
      /Cancelled\* by <@UREQ>/.test(textOf(sim.messages(CHANNELS.command).find((m) => m.ts === request.ts)!)),
    );
    await h.click('approve', request, PEOPLE.approver);
    expect(await lastPrivate(PEOPLE.approver, /was cancelled by <@UREQ>/)).toBeTruthy();
    expect(h.fastly.activations).toHaveLength(0);
  });

  it('refuses a stranger cancelling', async () => {
    await start();
    const request = await requestOf('cdn');
    await h.click('cancel', request, PEOPLE.stranger);
    expect(await lastPrivate(PEOPLE.stranger, /Only the requester or an approver can cancel/)).toBeTruthy();
  });

  it('says a request expired and updates it', async () => {
    await start();
    const request = await requestOf('cdn');
    await expireInRedis(request.id);
    await h.click('approve', request, PEOPLE.approver);
    expect(await lastPrivate(PEOPLE.approver, /This request expired at/)).toBeTruthy();
    await h.slack.waitFor((sim) =>
      /Expired\* at/.test(textOf(sim.messages(CHANNELS.command).find((m) => m.ts === request.ts)!)),
    );
    // Rewriting the request is the last thing an expired click does.
    expect(await requestState(request.id)).toBe('expired');
    expect(await h.jobState(request.id)).toBe('unknown');
    expect(h.fastly.activations).toHaveLength(0);
  });
});

describe('rules that keep a rollback safe', () => {
  it('frees a target held by an approval that was never queued (Redis failed in between), but not within 30 s', async () => {
    await start();
    const store = new RedisRequestStore(h.redis, { prefix: h.prefix });
    // What Redis holds after an approval whose job could not be queued and whose approval could not be undone.
    const orphan = await requestOf('cdn first try');
    expect((await store.approve(orphan.id, PEOPLE.approver, Date.now() - 5_000)).ok).toBe(true);
    await h.command('cdn');
    expect(await lastPrivate(PEOPLE.requester, /already under way/)).toContain('approved by <@');

    await h.redis.hset(`${h.prefix}:request:${orphan.id}`, 'approvedAt', String(Date.now() - 31_000));
    const fresh = await requestOf('cdn second try');
    expect(fresh.id).not.toBe(orphan.id);
    const closed = await store.get(orphan.id);
    expect(closed?.state).toBe('failed');
    expect(closed?.outcome).toMatch(/never queued .*nothing was changed/);
    await h.click('approve', fresh, PEOPLE.approver);
    await finishedThread();
    expect(h.fastly.activations).toHaveLength(1);
  });

  it('refuses a second rollback of a target while one runs, and links the running one', async () => {
    await start();
    const first = await requestOf('cdn');
    h.fastly.setLatency(400);
    await h.click('approve', first, PEOPLE.approver);
    await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
    await h.command('cdn again');
    const refusal = await lastPrivate(PEOPLE.requester, /already (running|under way)/);
    expect(refusal).toContain('v42 → v41');
    expect(refusal).toContain('slack.com/archives/CINC');
    h.fastly.setLatency(0);
    await finishedThread();
    expect(h.fastly.activations).toHaveLength(1);
  });

  it('stops without changing anything when the live version moved since the plan', async () => {
    await start();
    const request = await requestOf('cdn');
    h.fastly.activateOutOfBand(CDN_SERVICE, 40);
    await h.click('approve', request, PEOPLE.approver);
    const thread = await finishedThread();
    expect(thread.join('\n')).toContain(
      'Stopped: the plan was made when v42 was live, but Fastly service www-prod (SU1Z0isxPaozGVKXdv0eY) now has v40. Nothing was changed.',
    );
    expect(h.fastly.activations).toHaveLength(0);
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(40);
  });

  it('will not undo a rollback from the same pipeline, unless the version is named', async () => {
    await start();
    await h.click('approve', await requestOf('cdn'), PEOPLE.approver);
    await finishedThread();
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);

    await h.command('cdn it was fine after all');
    const refusal = await lastPrivate(PEOPLE.requester, /cannot be undone from the same pipeline/);
    expect(refusal).toContain('cdn is on v41 because of a rollback from v42');
    expect(refusal).toContain('`/rollback cdn to v42`');
    expect(h.slack.messages(CHANNELS.command).filter((m) => !m.threadTs)).toHaveLength(1);

    const explicit = await requestOf('cdn to v42');
    expect(textOf(explicit.message)).toMatch(/Restore:\* \*v42\*/);
  });

  it('waits out a Fastly 429 and activates exactly once', async () => {
    await start();
    const request = await requestOf('cdn');
    h.fastly.injectFaults({ status: 429, count: 1, resetSeconds: 1, match: (r) => r.method === 'PUT' });
    await h.click('approve', request, PEOPLE.approver);
    const thread = await finishedThread();
    expect(thread.join('\n')).toMatch(/back on v41/);
    expect(h.fastly.activations).toHaveLength(1);
    expect(h.fastly.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([429, 200]);
  });

  it('reports a failed activation, says what is live, and frees the target', async () => {
    await start();
    const request = await requestOf('cdn');
    h.fastly.injectFaults({ status: 500, count: 1, match: (r) => r.method === 'PUT' });
    await h.click('approve', request, PEOPLE.approver);
    const thread = (await finishedThread()).join('\n');
    expect(thread).toContain('❌ Rolling back to v41 failed');
    // A 500 leaves the outcome unknown: never "nothing changed" as a fact, and a second look after a while.
    expect(thread).toContain(
      'Re-read: v42 is still live, but the answer to the change never came, so v41 may still go live late: reading again in 5 s.',
    );
    expect(thread).toContain('Re-read after 5 s: v42 is still live; v41 did not go live.');
    expect(thread).not.toContain('nothing changed');
    expect(thread).toMatch(/Rollback of cdn failed.*Live now: \*v42\*/);
    expect(h.fastly.activations).toHaveLength(0);
    const again = await requestOf('cdn retry');
    expect(again.id).not.toBe(request.id);
  });

  it('falls back to the request thread when the incident channel is private and the bot is not in it', async () => {
    await start();
    h.slack.addChannel({ id: CHANNELS.incident, name: 'incidents', isPrivate: true, botIsMember: false });
    const request = await requestOf('cdn');
    await h.click('approve', request, PEOPLE.approver);
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.command, request.ts).some((m) => /back on v41/.test(textOf(m))),
      10_000,
    );
    const updated = textOf(h.slack.messages(CHANNELS.command).find((m) => m.ts === request.ts)!);
    expect(updated).toContain('I cannot post in <#CINC>');
    expect(updated).toContain('/invite @Rapid Rollback');
  });

  it('with neither channel open to the bot, still rolls back at once and says the steps go to the log', async () => {
    await start();
    h.slack.addChannel({ id: CHANNELS.command, name: 'ops', isPrivate: true, botIsMember: false });
    h.slack.addChannel({ id: CHANNELS.incident, name: 'incidents', isPrivate: true, botIsMember: false });
    // The request comes through the command's response_url: the bot holds no message of its own to thread under.
    const request = await requestOf('cdn');
    await h.click('approve', request, PEOPLE.approver);
    const updated = await h.slack.waitFor((sim) => {
      const text = textOf(sim.messages(CHANNELS.command).find((m) => m.ts === request.ts)!);
      return text.includes('I cannot post in <#CINC>') && text;
    });
    expect(updated).toContain("Progress goes to the bot's log only");
    await h.slack.waitFor(() => h.logs.some((line) => line.includes('rollback finished')) || undefined, 10_000);
    expect(h.fastly.activations).toHaveLength(1);
    const steps = h.logs.filter((line) => line.includes('rollback step')).join('\n');
    expect(steps).toContain('Activated v41');
    // Known at once that no thread will come: the change did not wait out the notice.
    expect(steps).not.toContain('has not taken the');
  });
});
