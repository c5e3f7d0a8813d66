import { afterEach, describe, expect, it } from 'vitest';
import { UNFREEZE_APPROVE_ACTION, UNFREEZE_CANCEL_ACTION } from '../../src/slack/blocks/freeze-blocks.js';
import { CHANNELS, type Harness, PEOPLE, SIGNING_SECRET, startHarness } from '../support/harness.js';
import { blockAction, sendToApp } from '../support/slack-payloads.js';
import { type SimMessage, textOf } from '../support/slack-simulator.js';
import { waitUntil } from '../support/wait.js';

/**
 * The deploy gate's freezes from Slack: a rollback freezes its target, `/rollback freeze` freezes one by hand,
 * `/rollback unfreeze` asks an approver to end a freeze. Signed commands and clicks to the real app, real Redis.
 */

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const LIFTS_BY_UNFREEZE = 'an approved `/rollback unfreeze cdn &lt;reason&gt;`';

interface UnfreezeRequestRef {
  id: string;
  channel: string;
  ts: string;
}

/** Clicks Approve or Cancel on an unfreeze request, as Slack sends it. */
async function clickUnfreeze(action: 'approve' | 'cancel', request: UnfreezeRequestRef, user: string) {
  const body = blockAction({
    actionId: action === 'approve' ? UNFREEZE_APPROVE_ACTION : UNFREEZE_CANCEL_ACTION,
    value: request.id,
    userId: user,
    channelId: request.channel,
    messageTs: request.ts,
    responseUrl: h.slack.newResponseUrl({ channel: request.channel, messageTs: request.ts, userId: user }),
  });
  const response = await sendToApp(h.eventsUrl, body, { signingSecret: SIGNING_SECRET });
  expect(response.status).toBe(200);
}

/** Waits for the newest unfreeze request in the command channel. */
async function awaitUnfreezeRequest(): Promise<UnfreezeRequestRef & { message: SimMessage }> {
  const message = await h.slack.waitFor((sim) =>
    [...sim.messages(CHANNELS.command)].reverse().find((m) => /Unfreeze requested: cdn/.test(textOf(m))),
  );
  const id = /`(uf-[a-z0-9-]+)`/.exec(textOf(message))?.[1];
  if (!id) throw new Error(`no unfreeze id in: ${textOf(message)}`);
  return { id, channel: CHANNELS.command, ts: message.ts, message };
}

/** The request message as everyone sees it now. */
function requestNow(request: UnfreezeRequestRef): string {
  const message = h.slack.messages(request.channel).find((m) => m.ts === request.ts);
  return message ? textOf(message) : '';
}

/** Waits for the next private answer to `user` matching `pattern`, after the `seen` first ones. */
function privately(user: string, pattern: RegExp, seen = 0): Promise<string> {
  return h.slack.waitFor(() =>
    h
      .privateTo(user)
      .slice(seen)
      .find((t) => pattern.test(t)),
  );
}

/** Types `/rollback <text>` and waits for its private answer (status, history, a refusal). */
async function answerTo(text: string, pattern: RegExp, user: string = PEOPLE.requester): Promise<string> {
  const seen = h.privateTo(user).length;
  await h.command(text, { user });
  return privately(user, pattern, seen);
}

const status = () => answerTo('status', /Rollback targets/);

/** Types `/rollback <text>` and returns the acknowledgement's text: answers that need no I/O come in it. */
async function acknowledged(text: string): Promise<string> {
  const { body } = await h.command(text);
  return (JSON.parse(body) as { text: string }).text;
}

/** Rolls cdn back from v42 to v41, approved; returns the rollback's id and the incident thread's root. */
async function rollBackCdn(): Promise<{ rollbackId: string; notice: SimMessage }> {
  await h.command('cdn elevated 5xx after deploy');
  const request = await h.awaitRequest();
  await h.click('approve', request, PEOPLE.approver);
  const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
  await h.slack.waitFor(
    (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on v41/.test(textOf(m))),
    10_000,
  );
  expect(await h.jobEnded(request.id)).toBe('completed');
  return { rollbackId: request.id, notice };
}

function threadOf(notice: SimMessage): string[] {
  return h.slack.thread(CHANNELS.incident, notice.ts).map(textOf);
}

describe('freezes from Slack', () => {
  it('a rollback freezes its target; an approver, not the requester nor a stranger, lifts it once', async () => {
    h = await startHarness();
    const { rollbackId, notice } = await rollBackCdn();
    // Lines that come close together share a thread message.
    expect(threadOf(notice).join('\n')).toContain(
      `🔒 cdn is frozen: the deploy gate refuses every deploy until ${LIFTS_BY_UNFREEZE}.`,
    );
    expect(await status()).toMatch(
      new RegExp(
        `\\n {3}🔒 frozen since \\d\\d:\\d\\d UTC by \`${rollbackId}\` — lifts with: ${escapeRe(LIFTS_BY_UNFREEZE)}`,
      ),
    );

    expect(await acknowledged('unfreeze cdn fixed forward in v43')).toBe('⏳ Asking to unfreeze `cdn`…');
    const request = await awaitUnfreezeRequest();
    const shown = textOf(request.message);
    expect(shown).toContain(`*cdn* is frozen since`);
    expect(shown).toContain(`after rollback ${rollbackId} (v42 → v41)`);
    expect(shown).toContain('*Requested by* <@UREQ>\n*Reason:* fixed forward in v43');
    expect(shown).toMatch(/Approvers: <@UAPP>, <!subteam\^S0SRE> \(not the requester\) · Expires \d\d:\d\d UTC · `uf-/);
    expect(shown).toContain('Approve unfreeze of cdn');

    await clickUnfreeze('approve', request, PEOPLE.requester);
    expect(await privately(PEOPLE.requester, /someone else must approve/)).toBe(
      '❌ You asked for this unfreeze, so someone else must approve it.\nAsk one of: <@UAPP>, <!subteam^S0SRE>.',
    );
    await clickUnfreeze('approve', request, PEOPLE.stranger);
    expect(await privately(PEOPLE.stranger, /not an approver/)).toContain('❌ You are not an approver for unfreezes.');
    expect(requestNow(request)).toContain('Approve unfreeze of cdn');
    expect(await status()).toContain('🔒 frozen since');

    // A double click: both reach the app at once, one lifts, the other hears it was already done.
    await Promise.all([
      clickUnfreeze('approve', request, PEOPLE.approver),
      clickUnfreeze('approve', request, PEOPLE.approver),
    ]);
    await h.slack.waitFor(() => /unfrozen/.test(requestNow(request)));
    expect(requestNow(request)).toContain(
      '🔓 cdn unfrozen: approved by <@UAPP>, asked for by <@UREQ>: fixed forward in v43',
    );
    expect(requestNow(request)).not.toContain('Approve unfreeze of cdn');
    expect(await privately(PEOPLE.approver, /already approved/)).toBe(
      '❌ This unfreeze was already approved by <@UAPP>; cdn is no longer frozen by it.',
    );
    const lifted = threadOf(notice).filter((t) => t.startsWith('🔓'));
    expect(lifted).toEqual([
      '🔓 cdn is no longer frozen: unfreeze approved by <@UAPP>, asked for by <@UREQ>: fixed forward in v43.',
    ]);

    const after = await status();
    expect(after).toContain('• `cdn` — Fastly service www-prod');
    expect(after).not.toContain('🔒');
    const history = await answerTo('history cdn', /Last rollbacks/);
    const ended = history.split('\n').filter((line) => line.startsWith('🔓'));
    expect(history).toContain('*Last freezes ended of `cdn`*');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatch(
      new RegExp(
        `^🔓 \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \`cdn\` freeze after rollback \`${rollbackId}\` \\(since .+\\) — ended by \`${request.id}\`: unfreeze approved by <@UAPP>, asked for by <@UREQ>: fixed forward in v43$`,
      ),
    );
  });

  it('freezes by hand in the channel; a second freeze is refused, only to its requester', async () => {
    h = await startHarness();
    expect(await acknowledged('freeze cdn bad config in the edge dictionary')).toBe('⏳ Freezing `cdn`…');
    const announced = await h.slack.waitFor((sim) =>
      sim.messages(CHANNELS.command).find((m) => /frozen by/.test(textOf(m))),
    );
    expect(announced.text).toBe(
      `🔒 *cdn* frozen by <@UREQ>: bad config in the edge dictionary. The deploy gate refuses every deploy until ${LIFTS_BY_UNFREEZE}.`,
    );
    const freezeId = /`(fz-[a-z0-9-]+)`/.exec(textOf(announced))?.[1];
    expect(freezeId).toBeDefined();
    expect(await status()).toMatch(
      new RegExp(
        `🔒 frozen since \\d\\d:\\d\\d UTC by hand by <@UREQ> \\(\`${freezeId}\`\\): bad config in the edge dictionary — lifts with: ${escapeRe(LIFTS_BY_UNFREEZE)}`,
      ),
    );

    await h.command('freeze cdn again', { user: PEOPLE.stranger });
    const refusal = await privately(PEOPLE.stranger, /already frozen/);
    expect(refusal).toMatch(
      /^❌ cdn is already frozen: frozen by hand by <@UREQ> since \d\d:\d\d UTC: "bad config in the edge dictionary"\.\nDeploys wait until an approved `\/rollback unfreeze cdn &lt;reason&gt;`\.$/,
    );
    expect(h.slack.messages(CHANNELS.command).filter((m) => /frozen by/.test(textOf(m)))).toHaveLength(1);
    expect(h.privateTo(PEOPLE.requester).some((t) => /already frozen/.test(t))).toBe(false);
  });

  it('two approvers at once lift a freeze by hand once', async () => {
    h = await startHarness();
    await h.command('freeze cdn hold');
    await h.slack.waitFor((sim) => sim.messages(CHANNELS.command).find((m) => /frozen by/.test(textOf(m))));
    await h.command('unfreeze cdn all clear');
    const request = await awaitUnfreezeRequest();
    expect(textOf(request.message)).toMatch(/\*cdn\* is frozen by hand by <@UREQ> since \d\d:\d\d UTC: "hold"/);

    await Promise.all([
      clickUnfreeze('approve', request, PEOPLE.approver),
      clickUnfreeze('approve', request, PEOPLE.groupMember),
    ]);
    await h.slack.waitFor(() => /unfrozen/.test(requestNow(request)));
    const refusals = await waitUntil('the second approver to be told', () => {
      const told = [PEOPLE.approver, PEOPLE.groupMember].flatMap((u) =>
        h.privateTo(u).filter((t) => /already approved/.test(t)),
      );
      return told.length > 0 && told;
    });
    expect(refusals).toHaveLength(1);
    const updates = h.slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === request.ts);
    expect(updates).toHaveLength(1);
    expect(await status()).not.toContain('🔒');
    const history = await answerTo('history', /Last rollbacks|No rollbacks/);
    expect(history).toContain('No rollbacks on record.\n*Last freezes ended*');
    expect(history.split('\n').filter((line) => line.startsWith('🔓'))).toHaveLength(1);
    expect(history).toContain('freeze by hand');
  });

  it('Cancel closes the request by the requester; a stranger cannot, and the target stays frozen', async () => {
    h = await startHarness();
    await h.command('freeze cdn hold');
    await h.slack.waitFor((sim) => sim.messages(CHANNELS.command).find((m) => /frozen by/.test(textOf(m))));
    await h.command('unfreeze cdn never mind');
    const request = await awaitUnfreezeRequest();

    await clickUnfreeze('cancel', request, PEOPLE.stranger);
    expect(await privately(PEOPLE.stranger, /cancel/)).toContain(
      '❌ Only the requester or an approver can cancel this unfreeze.',
    );
    expect(requestNow(request)).toContain('Approve unfreeze of cdn');

    await clickUnfreeze('cancel', request, PEOPLE.requester);
    await h.slack.waitFor(() => /Cancelled/.test(requestNow(request)));
    expect(requestNow(request)).toMatch(/✖️ \*Cancelled\* by <@UREQ> at \d\d:\d\d UTC\. cdn stays frozen\./);
    expect(requestNow(request)).not.toContain('Approve unfreeze of cdn');

    await clickUnfreeze('approve', request, PEOPLE.approver);
    expect(await privately(PEOPLE.approver, /cancelled/)).toBe(
      '❌ This unfreeze request was cancelled by <@UREQ>.\nNothing was lifted.',
    );
    expect(await status()).toContain('🔒 frozen since');
  });

  it('an expired request lifts nothing and is rewritten as expired on the next click', async () => {
    h = await startHarness({ requestTtl: '300ms' });
    await h.command('freeze cdn hold');
    await h.slack.waitFor((sim) => sim.messages(CHANNELS.command).find((m) => /frozen by/.test(textOf(m))));
    await h.command('unfreeze cdn too slow');
    const request = await awaitUnfreezeRequest();
    const seen = Date.now();
    // The request was made before it was seen: past this, it has expired.
    await waitUntil('the request to expire', () => Date.now() > seen + 300);

    await clickUnfreeze('approve', request, PEOPLE.approver);
    expect(await privately(PEOPLE.approver, /expired/)).toMatch(
      /^❌ This unfreeze request expired at \d\d:\d\d UTC, so it can no longer be approved\.\nNothing was lifted\. Ask again: `\/rollback unfreeze cdn &lt;reason&gt;`\.$/,
    );
    await h.slack.waitFor(() => /Expired/.test(requestNow(request)));
    expect(requestNow(request)).toMatch(
      /⌛ \*Expired\* at \d\d:\d\d UTC without approval\. cdn stays frozen; ask again: `\/rollback unfreeze cdn <reason>`\./,
    );
    expect(await status()).toContain('🔒 frozen since');
  });

  it('refuses, only to the requester: unfreeze when not frozen, a missing reason, an unknown target', async () => {
    h = await startHarness();
    await h.command('unfreeze cdn please');
    expect(await privately(PEOPLE.requester, /not frozen/)).toBe(
      '❌ cdn is not frozen: deploys go through the gate.\nNothing to lift.',
    );

    expect(await acknowledged('freeze cdn')).toBe(
      '❌ Say why: `/rollback freeze cdn <reason>`. The reason goes in the record, and the deploy gate refuses every deploy of cdn until an approved unfreeze.',
    );
    expect(await acknowledged('unfreeze cdn')).toMatch(/^❌ Say why: `\/rollback unfreeze cdn <reason>`\./);
    expect(await acknowledged('freeze')).toBe('❌ Name the target and say why: `/rollback freeze <target> <reason>`.');
    expect(await acknowledged('freeze cnd typo')).toBe(
      '❌ There is no target called "cnd". Did you mean `cdn`?\nKnown targets: `cdn`. Nothing was queued.',
    );

    // The status answer comes after every command above was handled: nothing was posted or frozen.
    expect(await status()).not.toContain('🔒');
    expect(h.slack.messages(CHANNELS.command)).toHaveLength(0);
    expect(h.slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(0);
  });

  it('a hostile reason is shown as typed, never as live markup, wherever it appears', async () => {
    h = await startHarness();
    const hostile = '<!channel> *bold* ```rm -rf``` <@U999> <https://evil.example|runbook>';
    await h.command(`freeze cdn ${hostile}`);
    const announced = await h.slack.waitFor((sim) =>
      sim.messages(CHANNELS.command).find((m) => /frozen by/.test(textOf(m))),
    );
    expect(textOf(announced)).toContain('&lt;!channel&gt; *bold* ');
    expect(textOf(announced)).toContain('&lt;@U999&gt; &lt;https://evil.example|runbook&gt;');
    expect(await status()).toContain('&lt;!channel&gt;');

    await h.command(`unfreeze cdn ${hostile}`);
    const request = await awaitUnfreezeRequest();
    expect(textOf(request.message)).toContain('*Reason:* &lt;!channel&gt; *bold*');
    await clickUnfreeze('approve', request, PEOPLE.approver);
    await h.slack.waitFor(() => /unfrozen/.test(requestNow(request)));
    expect(requestNow(request)).toContain('asked for by <@UREQ>: &lt;!channel&gt; *bold*');
    expect(await answerTo('history', /Last freezes ended/)).toContain('&lt;!channel&gt;');

    for (const text of everyText()) {
      for (const live of ['<!channel>', '<@U999>', '<https://evil.example'])
        expect(text, `live "${live}" in:\n${text}`).not.toContain(live);
      expect((text.match(/```/g) ?? []).length % 2, `unpaired fence in:\n${text}`).toBe(0);
    }
  });
});

/** Every mrkdwn text the bot sent Slack: Web API calls and response_url posts (not plain_text labels). */
function everyText(): string[] {
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object' && (node as { type?: unknown }).type !== 'plain_text') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'text' && typeof value === 'string') texts.push(value);
        else walk(value);
      }
    }
  };
  for (const call of h.slack.calls) walk(call.args);
  for (const response of h.slack.responses) walk(response.body);
  expect(texts.length).toBeGreaterThan(0);
  return texts;
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
