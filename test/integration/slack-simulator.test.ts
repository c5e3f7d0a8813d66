import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { ErrorCode, type WebAPIPlatformError, WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockAction, sendToApp, signRequest, slashCommand } from '../support/slack-payloads.js';
import { SlackSimulator, textOf } from '../support/slack-simulator.js';

const quiet = { logLevel: LogLevel.ERROR };
// Retry at once when Slack gives no Retry-After; otherwise the client waits exactly what Slack asked.
const fastRetries = { retries: 2, minTimeout: 0, maxTimeout: 1 };

async function platformError(promise: Promise<unknown>): Promise<WebAPIPlatformError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: ErrorCode.PlatformError });
  return error as WebAPIPlatformError;
}

describe('SlackSimulator driven by the real WebClient', () => {
  let sim: SlackSimulator;
  let client: WebClient;

  beforeEach(async () => {
    sim = await SlackSimulator.start();
    sim.addChannel({ id: 'CINC', name: 'incidents' });
    sim.addChannel({ id: 'COUT', name: 'outside', botIsMember: false });
    sim.addChannel({ id: 'GSEC', name: 'secret', isPrivate: true, botIsMember: false });
    sim.addUserGroup('SONCALL', ['UALICE', 'UBOB']);
    client = new WebClient(sim.botToken, { slackApiUrl: sim.apiUrl, retryConfig: fastRetries, ...quiet });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('answers auth.test with the bot identity', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: 'UBOT', team_id: 'T0SIM' });
    expect(res.bot_id).toBeTruthy();
  });

  it('keeps posts, thread replies and updates as a person would see them', async () => {
    const root = await client.chat.postMessage({
      channel: 'CINC',
      text: 'Rollback requested',
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '*api-prod* to v41' },
          fields: [{ type: 'mrkdwn', text: 'by <@UREQ>' }],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'needs approval' }] },
        {
          type: 'actions',
          elements: [
            { type: 'button', text: { type: 'plain_text', text: 'Approve' }, value: 'req-1', action_id: 'approve' },
          ],
        },
      ],
    });
    expect(root).toMatchObject({ ok: true, channel: 'CINC', message: { user: 'UBOT', text: 'Rollback requested' } });
    const rootTs = root.ts ?? '';
    expect(rootTs).toMatch(/^\d+\.\d{6}$/);

    const reply = await client.chat.postMessage({ channel: 'CINC', thread_ts: rootTs, text: 'Step 1: activating v41' });
    expect(reply.message?.thread_ts).toBe(rootTs);

    const updated = await client.chat.update({ channel: 'CINC', ts: rootTs, text: 'Rollback approved' });
    expect(updated).toMatchObject({ ok: true, channel: 'CINC', ts: rootTs, text: 'Rollback approved' });

    const [first, second] = sim.messages('CINC');
    expect(first).toMatchObject({ ts: rootTs, text: 'Rollback approved', updates: 1, user: 'UBOT' });
    // blocks left out of chat.update are kept, as in Slack
    expect(textOf(first ?? {})).toBe('Rollback approved\n*api-prod* to v41\nby <@UREQ>\nneeds approval\nApprove');
    expect(second).toMatchObject({ threadTs: rootTs, text: 'Step 1: activating v41' });
    expect(sim.thread('CINC', rootTs).map((m) => m.text)).toEqual(['Step 1: activating v41']);
    expect(sim.callsTo('chat.postMessage')).toHaveLength(2);
    expect(sim.callsTo('chat.postMessage')[0]?.args.blocks).toHaveLength(3);
  });

  it('rejects an update to a message that does not exist', async () => {
    const error = await platformError(client.chat.update({ channel: 'CINC', ts: '1.000001', text: 'x' }));
    expect(error.data.error).toBe('message_not_found');
  });

  it('shows ephemeral messages only to their user', async () => {
    const res = await client.chat.postEphemeral({ channel: 'CINC', user: 'UREQ', text: 'Only you can see this' });
    expect(res.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(sim.ephemerals('UREQ').map((m) => m.text)).toEqual(['Only you can see this']);
    expect(sim.ephemerals('UOTHER')).toEqual([]);
    expect(sim.messages('CINC')).toEqual([]);
  });

  it('lists the members of a user group', async () => {
    const res = await client.usergroups.users.list({ usergroup: 'SONCALL' });
    expect(res.users).toEqual(['UALICE', 'UBOB']);
    const error = await platformError(client.usergroups.users.list({ usergroup: 'SNOPE' }));
    expect(error.data.error).toBe('no_such_subteam');
  });

  it('joins public channels but not private ones', async () => {
    await expect(client.chat.postMessage({ channel: 'COUT', text: 'hi' })).rejects.toMatchObject({
      data: { error: 'not_in_channel' },
    });
    const joined = await client.conversations.join({ channel: 'COUT' });
    expect(joined.channel).toMatchObject({ id: 'COUT', is_member: true });
    await client.chat.postMessage({ channel: 'COUT', text: 'hi' });
    expect(sim.messages('COUT')).toHaveLength(1);

    const error = await platformError(client.conversations.join({ channel: 'GSEC' }));
    expect(error.data.error).toBe('method_not_supported_for_channel_type');
  });

  it('hides private channels the bot is not in, and unknown channels', async () => {
    const hidden = await platformError(client.chat.postMessage({ channel: 'GSEC', text: 'hi' }));
    expect(hidden.data.error).toBe('channel_not_found');
    const unknown = await platformError(client.conversations.info({ channel: 'CNOPE' }));
    expect(unknown.data.error).toBe('channel_not_found');
  });

  it('refuses a wrong token with invalid_auth', async () => {
    const stranger = new WebClient('xoxb-wrong', { slackApiUrl: sim.apiUrl, retryConfig: fastRetries, ...quiet });
    const error = await platformError(stranger.auth.test());
    expect(error.data.error).toBe('invalid_auth');
    expect(sim.calls.at(-1)).toMatchObject({ method: 'auth.test', status: 200, ok: false, error: 'invalid_auth' });
  });

  it('rate limits with Retry-After, and the WebClient waits that long and retries', async () => {
    sim.injectErrors({ method: 'chat.postMessage', count: 1, retryAfterSeconds: 1 });
    const started = Date.now();
    const res = await client.chat.postMessage({ channel: 'CINC', text: 'after the limit' });
    const waited = Date.now() - started;

    expect(res.ok).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(1800);
    const [limited, retried] = sim.callsTo('chat.postMessage');
    expect(limited).toMatchObject({ status: 429, ok: false, error: 'ratelimited' });
    expect(retried).toMatchObject({ status: 200, ok: true });
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('retries a 503 from Slack', async () => {
    sim.injectErrors({ method: '*', count: 1, status: 503 });
    await client.chat.postMessage({ channel: 'CINC', text: 'eventually' });
    expect(sim.callsTo('chat.postMessage').map((c) => c.status)).toEqual([503, 200]);
  });

  it('opens a modal once per trigger_id, for the person who clicked, and refuses what Slack refuses', async () => {
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'Break-glass approval' },
      blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'hello' } }],
    };
    const trigger = sim.newTriggerId('UALICE');
    const opened = await client.views.open({ trigger_id: trigger, view });
    expect(opened.view).toMatchObject({ type: 'modal', title: { text: 'Break-glass approval' } });
    expect(sim.viewsOf('UALICE')).toMatchObject([{ id: opened.view?.id, open: true }]);
    expect((await platformError(client.views.open({ trigger_id: trigger, view }))).data.error).toBe(
      'invalid_trigger_id',
    );
    expect((await platformError(client.views.open({ trigger_id: 'made-up', view }))).data.error).toBe(
      'invalid_trigger_id',
    );
    const long = { ...view, title: { type: 'plain_text' as const, text: 'A title far too long for Slack' } };
    expect(
      (await platformError(client.views.open({ trigger_id: sim.newTriggerId('UALICE'), view: long }))).data.error,
    ).toBe('invalid_arguments');
  });

  it('waitFor reports the recent calls when the condition never holds', async () => {
    await client.auth.test();
    await expect(sim.waitFor((s) => s.messages('CINC')[0], 50)).rejects.toThrow(/auth\.test -> 200 ok/);
  });
});

describe('a real Bolt App driven by signed payloads', () => {
  const signingSecret = 'sim-signing-secret';
  let sim: SlackSimulator;
  let app: App;
  let eventsUrl: string;
  const commands: Array<{ text: string; user: string; channel: string }> = [];
  const clicks: Array<{ value: string | undefined; user: string; channel: string | undefined }> = [];
  const submissions: Array<{ user: string; typed: string; metadata: string | undefined }> = [];
  const confirmModal = {
    type: 'modal' as const,
    callback_id: 'confirm_modal',
    private_metadata: 'req-7',
    title: { type: 'plain_text' as const, text: 'Confirm' },
    submit: { type: 'plain_text' as const, text: 'Run it' },
    blocks: [
      {
        type: 'input' as const,
        block_id: 'name',
        label: { type: 'plain_text' as const, text: 'Type the target name' },
        element: { type: 'plain_text_input' as const, action_id: 'typed' },
      },
    ],
  };

  beforeAll(async () => {
    // The simulator must be up before `new App`: with token verification on, the constructor fires auth.test.
    sim = await SlackSimulator.start();
    sim.addChannel({ id: 'CINC', name: 'incidents' });
    app = new App({
      signingSecret,
      token: sim.botToken,
      clientOptions: { slackApiUrl: sim.apiUrl, retryConfig: fastRetries },
      processBeforeResponse: false,
      ...quiet,
    });
    app.command('/rollback', async ({ command, ack, respond }) => {
      // Recorded before ack(): the ack is the HTTP answer the test awaits.
      commands.push({ text: command.text, user: command.user_id, channel: command.channel_id });
      await ack();
      await respond({ response_type: 'ephemeral', text: `Planning rollback of ${command.text}` });
    });
    app.action('approve', async ({ ack, body, action, respond }) => {
      clicks.push({
        value: action.type === 'button' ? action.value : undefined,
        user: body.user.id,
        channel: body.channel?.id,
      });
      await ack();
      await respond({ replace_original: true, text: 'Approved' });
    });
    app.action('confirm', async ({ ack, body, client }) => {
      await ack();
      await client.views.open({ trigger_id: (body as { trigger_id: string }).trigger_id, view: confirmModal });
    });
    app.view('confirm_modal', async ({ ack, body, view }) => {
      const typed = view.state.values.name?.typed?.value ?? '';
      submissions.push({ user: body.user.id, typed, metadata: view.private_metadata });
      if (typed !== 'cdn') await ack({ response_action: 'errors', errors: { name: `Type cdn, not ${typed}` } });
      else await ack();
    });
    // Port 0 asks the OS for a free port; App#start resolves with the node http.Server, which knows it.
    const server = await app.start(0);
    eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(async () => {
    await app.stop();
    await sim.close();
  });
  beforeEach(() => {
    commands.length = 0;
    clicks.length = 0;
    submissions.length = 0;
  });

  it('verified the token with auth.test at start', async () => {
    await sim.waitFor((s) => s.callsTo('auth.test').find((c) => c.ok));
  });

  it('delivers a signed slash command to app.command and its respond() to the response_url', async () => {
    const responseUrl = sim.newResponseUrl({ channel: 'CINC', userId: 'UREQ' });
    const body = slashCommand({ text: 'api-prod', channelId: 'CINC', responseUrl });
    const res = await sendToApp(eventsUrl, body, { signingSecret });

    expect(res.status).toBe(200);
    expect(commands).toEqual([{ text: 'api-prod', user: 'UREQ', channel: 'CINC' }]);
    const response = await sim.waitFor((s) => s.responses[0]);
    expect(response).toMatchObject({
      url: responseUrl,
      body: { response_type: 'ephemeral', text: 'Planning rollback of api-prod' },
    });
    expect(sim.ephemerals('UREQ').map(textOf)).toEqual(['Planning rollback of api-prod']);
  });

  it('delivers a signed button click to app.action with its value', async () => {
    const posted = await app.client.chat.postMessage({ channel: 'CINC', text: 'Approve rollback?' });
    const messageTs = posted.ts ?? '';
    const responseUrl = sim.newResponseUrl({ channel: 'CINC', messageTs, userId: 'UAPPROVER' });
    const body = blockAction({
      actionId: 'approve',
      value: 'req-42',
      userId: 'UAPPROVER',
      channelId: 'CINC',
      messageTs,
      responseUrl,
    });
    const res = await sendToApp(eventsUrl, body, { signingSecret, retryNum: 1 });

    expect(res.status).toBe(200);
    expect(clicks).toEqual([{ value: 'req-42', user: 'UAPPROVER', channel: 'CINC' }]);
    await sim.waitFor((s) => s.messages('CINC').find((m) => m.ts === messageTs && m.text === 'Approved'));
    expect(sim.messages('CINC')).toHaveLength(1);
  });

  it("opens a modal with the click's trigger_id and delivers its signed submission to app.view", async () => {
    const trigger = sim.newTriggerId('UREQ');
    const body = blockAction({
      actionId: 'confirm',
      value: 'req-7',
      userId: 'UREQ',
      channelId: 'CINC',
      messageTs: '1.000001',
      responseUrl: sim.newResponseUrl(),
      triggerId: trigger,
    });
    expect((await sendToApp(eventsUrl, body, { signingSecret })).status).toBe(200);
    const opened = await sim.waitFor((s) => s.viewsOf('UREQ')[0]);
    expect(opened).toMatchObject({ user: 'UREQ', open: true, view: { callback_id: 'confirm_modal' } });
    expect(textOf(opened.view)).toContain('Type the target name');

    const deliver = (payload: string) => sendToApp(eventsUrl, payload, { signingSecret });
    const wrong = await sim.submitView(opened.id, { name: { typed: 'api' } }, deliver);
    expect(wrong).toMatchObject({ status: 200, outcome: 'errors' });
    expect(sim.viewsOf('UREQ')[0]).toMatchObject({ open: true, errors: { name: 'Type cdn, not api' } });

    // A forged submission never reaches the listener.
    const forged = await sim.submitView(opened.id, { name: { typed: 'cdn' } }, (payload) =>
      sendToApp(eventsUrl, payload, { signingSecret, forgeSignature: true }),
    );
    expect(forged.status).toBe(401);
    expect(submissions).toHaveLength(1);

    const right = await sim.submitView(opened.id, { name: { typed: 'cdn' } }, deliver);
    expect(right).toMatchObject({ status: 200, outcome: 'closed' });
    expect(sim.viewsOf('UREQ')[0]?.open).toBe(false);
    expect(submissions).toEqual([
      { user: 'UREQ', typed: 'api', metadata: 'req-7' },
      { user: 'UREQ', typed: 'cdn', metadata: 'req-7' },
    ]);
  });

  it('refuses a forged signature with 401 and never calls the listener', async () => {
    const body = slashCommand({ text: 'api-prod', responseUrl: sim.newResponseUrl() });
    const res = await sendToApp(eventsUrl, body, { signingSecret, forgeSignature: true });
    expect(res.status).toBe(401);
    expect(commands).toEqual([]);
  });

  it('refuses a correctly signed request that is ten minutes old with 401', async () => {
    const body = slashCommand({ text: 'api-prod', responseUrl: sim.newResponseUrl() });
    const res = await sendToApp(eventsUrl, body, {
      signingSecret,
      timestampSeconds: Math.floor(Date.now() / 1000) - 600,
    });
    expect(res.status).toBe(401);
    expect(commands).toEqual([]);
  });

  it('works with token verification off too: auth.test waits for the first request', async () => {
    const lazySim = await SlackSimulator.start();
    const lazy = new App({
      signingSecret,
      token: lazySim.botToken,
      tokenVerificationEnabled: false,
      clientOptions: { slackApiUrl: lazySim.apiUrl, retryConfig: fastRetries },
      ...quiet,
    });
    const seen: string[] = [];
    lazy.command('/rollback', async ({ command, ack }) => {
      seen.push(command.text);
      await ack();
    });
    const server = await lazy.start(0);
    try {
      expect(lazySim.callsTo('auth.test')).toEqual([]);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
      const res = await sendToApp(url, slashCommand({ text: 'web', responseUrl: lazySim.newResponseUrl() }), {
        signingSecret,
      });
      expect(res.status).toBe(200);
      expect(seen).toEqual(['web']);
      expect(lazySim.callsTo('auth.test')).toHaveLength(1);
    } finally {
      await lazy.stop();
      await lazySim.close();
    }
  });

  it('signs exactly as Slack documents', () => {
    // Worked example from Slack's "Verifying requests from Slack" guide.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const headers = signRequest(body, '8f742231b10e8888abcd99yyyzzz85a5', 1531420618);
    expect(headers['x-slack-signature']).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });
});
