import { rmSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bundleForNode } from '../support/bundle.js';
import { runCli } from '../support/cli-process.js';
import {
  appRelease,
  CDN_SERVICE,
  CHANNELS,
  type Harness,
  PEOPLE,
  REDIS_URL,
  SIGNING_SECRET,
  startHarness,
} from '../support/harness.js';
import { blockAction, sendToApp } from '../support/slack-payloads.js';
import { type SimMessage, textOf } from '../support/slack-simulator.js';

/**
 * Text typed by people (reasons, CLI user names, button values) and text from providers (Fastly version
 * comments and service names, Helm appVersions, command output) goes through every message the bot posts,
 * and none of it may turn into live Slack markup: no broadcast, no mention, no disguised link, no code
 * block closed early. People still see what was typed, escaped (`&lt;!channel&gt;` shows as `<!channel>`).
 */
const HOSTILE = '<!channel> <@U999> <https://evil.example|the runbook> ``` *bold* &amp';
const ESCAPED = '&lt;!channel&gt; &lt;@U999&gt; &lt;https://evil.example|the runbook&gt;';
/** Raw sequences that must never reach Slack from person or provider text. */
const LIVE = ['<!channel>', '<!here>', '<@U999>', '<https://evil.example'];
const FENCE = /```/g;

let h: Harness | undefined;
let cliEntry = '';
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(() => {
  if (cliEntry) rmSync(cliEntry, { force: true });
});

/**
 * Every text the bot sent Slack that Slack reads as markup: Web API calls, response_url posts, and the
 * acknowledgements given. Not plain_text objects (headers, button labels): Slack renders no markup there.
 */
function everyText(harness: Harness, acks: string[] = []): string[] {
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
  for (const call of harness.slack.calls) walk(call.args);
  for (const response of harness.slack.responses) walk(response.body);
  for (const ack of acks) walk(ack.startsWith('{') ? JSON.parse(ack) : { text: ack });
  return texts;
}

function expectInert(texts: string[]): void {
  expect(texts.length).toBeGreaterThan(0);
  for (const text of texts) {
    for (const live of LIVE) expect(text, `live "${live}" in:\n${text}`).not.toContain(live);
    // A person's ``` neither opens nor closes a code block: the bot's own fences stay paired.
    expect((text.match(FENCE) ?? []).length % 2, `unpaired fence in:\n${text}`).toBe(0);
  }
}

/** A message that is one code block after its first line: exactly the two fences, the second at the end. */
function expectOneCodeBlock(text: string): void {
  expect(text.match(FENCE) ?? [], text).toHaveLength(2);
  expect(text.endsWith('\n```'), text).toBe(true);
}

async function clickRecord(harness: Harness, checklist: SimMessage): Promise<string> {
  const value = (checklist.blocks ?? [])
    .flatMap((b) => (b as { elements?: Array<{ action_id?: string; value?: string }> }).elements ?? [])
    .find((e) => e.action_id === 'rollback_record')?.value;
  expect(value).toBeDefined();
  const click = blockAction({
    actionId: 'rollback_record',
    value: value!,
    userId: PEOPLE.stranger,
    channelId: CHANNELS.incident,
    messageTs: checklist.ts,
    responseUrl: harness.slack.newResponseUrl({ userId: PEOPLE.stranger }),
  });
  expect((await sendToApp(harness.eventsUrl, click, { signingSecret: SIGNING_SECRET })).status).toBe(200);
  return textOf(
    await harness.slack.waitFor((sim) =>
      sim.messages(CHANNELS.incident).find((m) => /Incident record for/.test(textOf(m))),
    ),
  );
}

async function privately(harness: Harness, pattern: RegExp, user: string = PEOPLE.requester): Promise<string> {
  return harness.slack.waitFor(() => harness.privateTo(user).find((t) => pattern.test(t)));
}

async function finishedThread(harness: Harness, notices: number, done: RegExp): Promise<SimMessage> {
  const notice = await harness.slack.waitFor(
    (sim) => sim.messages(CHANNELS.incident).filter((m) => !m.threadTs)[notices],
    10_000,
  );
  await harness.slack.waitFor(
    (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => done.test(textOf(m))),
    30_000,
  );
  await harness.slack.waitFor(
    (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /After the rollback/.test(textOf(m))),
    10_000,
  );
  return notice;
}

describe('person and provider text in Slack messages', () => {
  it('a hostile reason, Fastly service name and version comment stay inert in plan, notice, thread, record, status and refusals', async () => {
    const versions = Array.from({ length: 42 }, (_, i) => ({
      number: i + 1,
      ...(i + 1 >= 41 ? { comment: `deploy ${i + 1}: ${HOSTILE}` } : {}),
    }));
    h = await startHarness({ services: [{ id: CDN_SERVICE, name: 'www-prod <!here>', versions, active: 42 }] });
    const acks: string[] = [];

    acks.push((await h.command('<!channel>')).body);
    acks.push((await h.command(`cdn ${HOSTILE}`)).body);
    const request = await h.awaitRequest();
    const plan = textOf(request.message);
    expect(plan).toContain(`*Reason:* ${ESCAPED}`);
    expect(plan).toContain(`deploy 41: ${ESCAPED}`);
    expect(plan).toContain('&amp;amp');
    expect(plan).toContain('www-prod &lt;!here&gt;');

    // A stranger's click and a forged follow-up value are refused, only to the clicker.
    await h.click('approve', request, PEOPLE.stranger);
    await privately(h, /not an approver/, PEOPLE.stranger);
    const forged = blockAction({
      actionId: 'rollback_follow_up',
      value: `${request.id}|<!channel>`,
      userId: PEOPLE.approver,
      channelId: CHANNELS.command,
      messageTs: request.ts,
      responseUrl: h.slack.newResponseUrl({ userId: PEOPLE.approver }),
    });
    expect((await sendToApp(h.eventsUrl, forged, { signingSecret: SIGNING_SECRET })).status).toBe(200);
    expect(await privately(h, /offers no/, PEOPLE.approver)).toContain('offers no "&lt;!channel&gt;"');

    await h.click('approve', request, PEOPLE.approver);
    const notice = await finishedThread(h, 0, /back on v41/);
    expect(textOf(notice)).toContain(ESCAPED);
    const thread = h.slack.thread(CHANNELS.incident, notice.ts);
    expect(thread.map(textOf).join('\n')).toContain('Checked: v42 is live on Fastly service www-prod &lt;!here&gt;');

    const record = await clickRecord(h, thread.find((m) => /After the rollback/.test(textOf(m)))!);
    expectOneCodeBlock(record);
    expect(record).toContain('Requested by: <@UREQ>');
    expect(record).toContain(`— "${ESCAPED}`);
    expect(record).toContain(`(deploy 41: ${ESCAPED}`);

    await h.command('status');
    expect(await privately(h, /Rollback targets/)).toContain(`deploy 41: ${ESCAPED}`);
    await h.command('history');
    await privately(h, /Last rollbacks/);

    expectInert(everyText(h, acks));
  });

  it('a hostile Helm appVersion (the version label) and migration output stay inert, the output in one code block', async () => {
    const release = appRelease(['superseded', 'deployed']);
    release.revisions[0]!.appVersion = '1.0.0-<!here>';
    release.revisions[1]!.appVersion = '1.1.0-<@U999>';
    h = await startHarness({ kube: { migration: true, release } });
    h.kube!.onExec(() => ({ stdout: `Rolled back ${HOSTILE}\n\`\`\`\nstill <!channel>\n`, exitCode: 0 }));

    await h.command('api helm went wrong');
    const request = await h.awaitRequest();
    const plan = textOf(request.message);
    expect(plan).toContain('*Live now:* *v1.1.0-&lt;@U999&gt; (revision 2)*');
    expect(plan).toContain('*Restore:* *v1.0.0-&lt;!here&gt; (revision 1)*');

    await h.click('approve', request, PEOPLE.approver);
    const notice = await finishedThread(h, 0, /api is back on/);
    expect(notice.text).toBe('Rolling back api to v1.0.0-&lt;!here&gt; (revision 1)');
    const final = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /back on/.test(textOf(m)))!;
    expect(textOf(final)).toContain('*api is back on v1.0.0-&lt;!here&gt; (revision 1)*');

    await h.clickFollowUp(final, PEOPLE.requester);
    const pending = await h.slack.waitFor((sim) =>
      sim.thread(CHANNELS.incident, notice.ts).find((m) => /Revert migration requested: api/.test(textOf(m))),
    );
    const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(pending))![1]!;
    await h.click('approve', { id, channel: CHANNELS.incident, ts: pending.ts }, PEOPLE.approver);
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /Revert migration for api done/.test(textOf(m))),
      10_000,
    );
    const output = h.slack
      .thread(CHANNELS.incident, notice.ts)
      .map(textOf)
      .find((t) => t.includes('Output:'));
    expect(output).toBeDefined();
    expect(output!.match(FENCE)).toHaveLength(2);
    expect(output).toContain(`Rolled back ${ESCAPED}`);
    expect(output).toContain('still &lt;!channel&gt;');

    const checklist = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /After the rollback/.test(textOf(m)))!;
    expect(textOf(checklist)).toContain('revert in git what came after v1.0.0-&lt;!here&gt; (revision 1)');
    const record = await clickRecord(h, checklist);
    expectOneCodeBlock(record);
    expect(record).toContain(
      '# Rollback of api: v1.1.0-&lt;@U999&gt; (revision 2) → v1.0.0-&lt;!here&gt; (revision 1)',
    );
    expect(record).toContain(`Revert migration: exit code 0`);

    await h.command('status');
    expect(await privately(h, /Rollback targets/)).toContain('&lt;!here&gt;');
    await h.command('history');
    expect(await privately(h, /Last rollbacks/)).toContain(
      'v1.1.0-&lt;@U999&gt; (revision 2) → v1.0.0-&lt;!here&gt; (revision 1)',
    );

    expectInert(everyText(h));
  });

  // Four CLI processes, three of them at once: 20 s and more beside other work; the limit is for a hang.
  it('a CLI user called <!channel> with terminal escapes: inert in Slack, and no control characters in the terminal', {
    timeout: 180_000,
  }, async () => {
    cliEntry ||= await bundleForNode('src/cli/main.ts', 'rapid-rollback-hostile-text');
    h = await startHarness();
    const harness = h;
    const env = {
      PATH: process.env.PATH ?? '',
      SLACK_BOT_TOKEN: harness.slack.botToken,
      SLACK_API_URL: harness.slack.apiUrl,
      FASTLY_API_TOKEN: harness.fastly.token,
      FASTLY_API_URL: harness.fastly.url,
      REDIS_URL,
      REDIS_PREFIX: harness.prefix,
      ROLLBACK_CONFIG: harness.config.configFile,
      USER: '<!channel>\u001b[2J\u001b]0;pwned\u0007',
    };
    const cli = (args: string[]) => runCli(cliEntry, args, env);

    const run = await cli([
      'rollback',
      'cdn',
      '--reason',
      `${HOSTILE} \u001b[31mred\u001b[0m\rover \u0008`,
      '--approved-by',
      PEOPLE.approver,
      '--yes',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const id = /request (rb-[a-z0-9]+-[a-z0-9]+)/.exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    const [record, history, status] = await Promise.all([cli(['record', id!]), cli(['history']), cli(['status'])]);

    const notice = harness.slack.messages(CHANNELS.incident).find((m) => !m.threadTs)!;
    expect(textOf(notice)).toContain('requested by cli:&lt;!channel&gt;');
    expect(textOf(notice)).toContain(ESCAPED);
    await harness.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /After the rollback/.test(textOf(m))),
      10_000,
    );

    await harness.command('history');
    expect(await privately(harness, /Last rollbacks/)).toContain('asked by cli:&lt;!channel&gt;');

    for (const out of [run, record, history, status]) {
      // Newlines only: no escape sequence, carriage return, backspace or bell reaches the terminal.
      expect(out.stdout + out.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    }
    // The person's text is printed as typed, not turned into a link or a mention.
    expect(record.stdout).toContain('<!channel> <@U999> <https://evil.example|the runbook>');
    expect(record.stdout).not.toContain('&lt;');
    expect(history.stdout).toContain('asked by cli:<!channel>');

    expectInert(everyText(harness));
  });
});
