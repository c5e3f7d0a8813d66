/**
 * What the plan shows of the change, through the real Bolt app on the Slack and Fastly simulators: the summary
 * in the request message, and "Show diff" posting Fastly's diff in the request's thread, split to Slack's
 * message size, with provider text that can neither ping nor break the code block.
 */
import { afterEach, expect, it } from 'vitest';
import { SHOW_DIFF_ACTION } from '../../src/slack/blocks/changes-blocks.js';
import { defaultConfig } from '../support/fastly-config.js';
import { CDN_SERVICE, CHANNELS, type Harness, PEOPLE, SIGNING_SECRET, startHarness } from '../support/harness.js';
import { blockAction, sendToApp } from '../support/slack-payloads.js';
import { textOf } from '../support/slack-simulator.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const good = defaultConfig(41);
/** A snippet long enough to need several messages, with a line that would ping everyone and close the block. */
const LONG_SNIPPET = [
  'set req.http.X-Note = "<!channel> ``` deploy";',
  ...Array.from({ length: 1_500 }, (_, i) => `set req.http.X-Line-${i} = "value ${i}";`),
].join('\n');

function services(
  bad = { ...good, snippets: [...good.snippets, { name: 'ban_bots', type: 'recv', content: LONG_SNIPPET }] },
) {
  return [
    {
      id: CDN_SERVICE,
      name: 'www-prod',
      versions: [
        { number: 41, comment: 'known good', config: good },
        { number: 42, comment: 'bad deploy', config: bad },
      ],
      active: 42,
    },
  ];
}

/** A diff part as it reads in Slack: entities shown as characters, the zero-width spaces that break fences gone. */
function shown(text: string): string {
  return text
    .replace(/\u200b/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

it('shows the diff summary in the plan, and "Show diff" posts the whole diff in the thread, split and escaped', async () => {
  h = await startHarness({ services: services() });
  await h.command('cdn elevated 5xx');
  const request = await h.awaitRequest();
  const message = textOf(request.message);
  expect(message).toContain('What changes');
  expect(message).toContain('Diff v42 → v41');
  expect(message).toContain(`+0 −1502 lines`);
  expect(message).toContain('snippets: ban_bots');

  await h.clickButton(request.message, SHOW_DIFF_ACTION, PEOPLE.stranger);
  const parts = await h.slack.waitFor((sim) => {
    const thread = sim.thread(CHANNELS.command, request.ts).filter((m) => /^Diff of cdn/.test(textOf(m)));
    const total = Number(/part \d+ of (\d+)/.exec(textOf(thread[0] ?? {}))?.[1] ?? 0);
    return total > 1 && thread.length === total ? thread : undefined;
  });
  const texts = parts.map((m) => textOf(m));
  expect(texts[0]).toContain(`asked by <@${PEOPLE.stranger}> · part 1 of ${texts.length}`);
  for (const text of texts) {
    expect(text.length).toBeLessThan(40_000);
    // One block per message: the opening and the closing fence, nothing in between that closes it.
    expect(text.match(/```/g)).toHaveLength(2);
    expect(text).not.toContain('<!channel>');
  }
  const lines = texts.flatMap((t) =>
    shown(t.split('```')[1] ?? '')
      .split('\n')
      .slice(1, -1),
  );
  expect(lines.slice(0, 2)).toEqual(['--- version 42', '+++ version 41']);
  expect(lines).toContain('-    set req.http.X-Note = "<!channel> ``` deploy";');
  expect(lines.filter((l) => l.startsWith('-    set req.http.X-Line-'))).toHaveLength(1_500);
  // Split on line boundaries: every line of the diff is whole, in order.
  expect(lines.filter((l) => l.startsWith('-    set req.http.X-Line-')).at(-1)).toBe(
    '-    set req.http.X-Line-1499 = "value 1499";',
  );
  expect(texts.join('')).toContain('&lt;!channel&gt;');
});

it('says when the diff is not available, in the plan and to whoever clicks, and the plan still stands', async () => {
  h = await startHarness({
    services: services({ ...good, backends: [{ name: 'origin', address: 'new.example.com' }] }),
  });
  const harness = h;
  harness.fastly.injectFaults({ status: 403, count: 1, match: (req) => req.path.includes('/diff/') });
  await harness.command('cdn elevated 5xx');
  const request = await harness.awaitRequest();
  expect(textOf(request.message)).toMatch(/diff not available: .*403/);
  expect(textOf(request.message)).toContain('Approve rollback to v41');

  // A second request reads the diff again: the summary, then a click whose read Fastly refuses.
  await harness.command('cdn still 5xx');
  const second = await harness.slack.waitFor((sim) =>
    sim.messages(CHANNELS.command).find((m) => /Diff v42 → v41/.test(textOf(m))),
  );
  expect(textOf(second)).toContain('backends: origin');
  harness.fastly.injectFaults({ status: 403, count: 1, match: (req) => req.path.includes('/diff/') });
  await harness.clickButton(second, SHOW_DIFF_ACTION, PEOPLE.approver);
  const said = await harness.slack.waitFor(() =>
    harness.privateTo(PEOPLE.approver).find((t) => t.includes('diff not available')),
  );
  expect(said).toMatch(/403/);

  // A request's diff is shown only from its own message: the second request's id clicked on the first's message.
  await sendToApp(
    harness.eventsUrl,
    blockAction({
      actionId: SHOW_DIFF_ACTION,
      value: (/`(rb-[a-z0-9-]+)`/.exec(textOf(second)) ?? [])[1] ?? '',
      userId: PEOPLE.stranger,
      channelId: CHANNELS.command,
      messageTs: request.ts,
      responseUrl: harness.slack.newResponseUrl({ userId: PEOPLE.stranger }),
    }),
    { signingSecret: SIGNING_SECRET },
  );
  await harness.slack.waitFor(() => harness.privateTo(PEOPLE.stranger).find((t) => t.includes('diff not available')));
  const threads = [request.ts, second.ts].flatMap((ts) => harness.slack.thread(CHANNELS.command, ts));
  expect(threads.filter((m) => /^Diff of cdn/.test(textOf(m)))).toEqual([]);
});

it('shows a Deployment pod template difference and a Helm values key in their requests, with no Show diff', async () => {
  h = await startHarness({ kube: { webImages: ['registry/web:1.0.0', 'registry/web:1.1.0'] } });
  const harness = h;
  await harness.command('web bad image');
  const web = textOf((await harness.awaitRequest()).message);
  expect(web).toContain('Pod template differences, revision 2 → revision 1');
  expect(web).toContain('web: image registry/web:1.1.0 → registry/web:1.0.0');
  expect(web).not.toContain('Show diff');

  await harness.command('api bad release');
  const api = await harness.slack.waitFor((sim) =>
    sim.messages(CHANNELS.command).find((m) => /Rollback requested: api/.test(textOf(m))),
  );
  expect(textOf(api)).toContain('Values keys that differ (names only), v1.1.0 (revision 2) → v1.0.0 (revision 1)');
  expect(textOf(api)).toMatch(/\nimage\n/);
});
