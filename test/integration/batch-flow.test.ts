import { afterEach, describe, expect, it } from 'vitest';
import { CDN_SERVICE, CHANNELS, type Harness, PEOPLE, SIGNING_SECRET, startHarness } from '../support/harness.js';
import { blockAction, sendToApp } from '../support/slack-payloads.js';
import { type SimMessage, textOf } from '../support/slack-simulator.js';

const EDGE_SERVICE = 'SEDGEsvc0000000000001';
const EDGE_APPROVER = 'UEDGE';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** The multi-target plan message the last /rollback posted, and its batch id. */
async function awaitBatch() {
  const message = await h.slack.waitFor(
    (sim) =>
      [...sim.messages(CHANNELS.command)]
        .reverse()
        .find((m) => !m.threadTs && /Rollback requested: .*targets/.test(textOf(m))),
    15_000,
  );
  const id = /`(rbb-[a-z0-9-]+)`/.exec(textOf(message))?.[1];
  if (!id) throw new Error(`no batch id in: ${textOf(message)}`);
  return { id, message };
}

async function clickBatch(action: 'approve' | 'cancel', message: SimMessage, id: string, user: string) {
  const body = blockAction({
    triggerId: h.slack.newTriggerId(user),
    actionId: action === 'approve' ? 'rollback_batch_approve' : 'rollback_batch_cancel',
    value: id,
    userId: user,
    channelId: message.channel,
    messageTs: message.ts,
    responseUrl: h.slack.newResponseUrl({ channel: message.channel, messageTs: message.ts, userId: user }),
  });
  const response = await sendToApp(h.eventsUrl, body, { signingSecret: SIGNING_SECRET });
  expect(response.status).toBe(200);
}

const notices = () => h.slack.messages(CHANNELS.incident).filter((m) => !m.threadTs);

describe('one approval for several targets, through Slack', () => {
  it('/rollback checkout: a Fastly service and a Helm release, one plan, one click, one notice, one thread, both verified', async () => {
    h = await startHarness({ kube: {}, settings: ['groups: { checkout: [cdn, api] }'] });
    expect((await h.command('checkout bad release at 02:10')).status).toBe(200);
    const { id, message } = await awaitBatch();
    const plan = textOf(message);
    // Each target with its live and pinned restore version, its steps; one Approve for both.
    expect(plan).toContain('Rollback requested: checkout (2 targets)');
    expect(plan).toMatch(/\*cdn\*: v42 → \*v41\* 📌/);
    expect(plan).toMatch(/\*api\*: v1\.1\.0 \(revision 2\) → \*v1\.0\.0 \(revision 1\)\* 📌/);
    expect(plan).toContain('helm rollback app 1 --namespace prod');
    expect(plan).toContain('Activate v41');
    // What each rollback changes, under its plan: Fastly's diff summary (with Show diff), Helm's values keys.
    expect(plan).toMatch(/What changes\*\n\*Diff v42 → v41\*/);
    const buttons = (message.blocks ?? []).flatMap(
      (b) => (b as { elements?: Array<{ action_id?: string; text?: { text: string } }> }).elements ?? [],
    );
    expect(buttons.filter((b) => b.action_id).map((b) => b.text?.text)).toEqual([
      'Show diff',
      'Approve all 2 rollbacks',
      'Cancel',
    ]);

    // The requester may not approve their own (allowSelfApproval is off): nothing runs.
    await clickBatch('approve', message, id, PEOPLE.requester);
    await h.slack.waitFor(() => h.privateTo(PEOPLE.requester).some((t) => /someone else must approve/.test(t)));
    expect(notices()).toHaveLength(0);

    await clickBatch('approve', message, id, PEOPLE.approver);
    const notice = await h.slack.waitFor(() => notices()[0], 10_000);
    expect(notice.text).toBe('Rolling back checkout: cdn to v41, api to v1.0.0 (revision 1)');
    const summary = await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on their versions/.test(textOf(m))),
      60_000,
    );
    expect(textOf(summary)).toMatch(/✅ \*checkout: 2 of 2 back on their versions, verified, \d+(\.\d)? (s|ms)\*/);
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf);
    const all = thread.join('\n');
    // Every step is labelled with its target; one outcome line each.
    expect(all).toMatch(/cdn: Activated v41|cdn: Activate v41/);
    expect(all).toMatch(/api: .*helm rollback app 1/);
    expect(all).toContain('*cdn is back on v41*, verified.');
    expect(all).toContain('*api is back on v1.0.0 (revision 1)*, verified.');
    // The summary is the thread's last word, and the notice says how it ended.
    expect(thread.at(-1)).toBe(textOf(summary));
    await h.slack.waitFor(() => /✅ done in/.test(textOf(notices()[0] as SimMessage)));
    // The providers really moved.
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);
    expect(h.kube?.helmReleases('prod', 'app').at(-1)).toMatchObject({ version: 3, status: 'deployed' });
    // The request message no longer offers the buttons: one approval ran both.
    const decided = await h.slack.waitFor(() =>
      h.slack.messages(CHANNELS.command).find((m) => m.ts === message.ts && /Approved/.test(textOf(m))),
    );
    expect(textOf(decided)).toContain('rolling back all 2 now');
    // Each target keeps its own record, which names the batch.
    const records = await h.redis.keys(`${h.prefix}:timeline:*`);
    expect(records).toHaveLength(2);
  }, 120_000);

  it('per-target approvers: an approver of one target is refused for the other and told who can; nothing runs until someone allowed on both approves', async () => {
    h = await startHarness({
      services: [
        { id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 },
        { id: EDGE_SERVICE, name: 'edge-prod', versions: 7, active: 7 },
      ],
      extraTargets: [
        '  edge:',
        '    kind: fastly',
        `    serviceId: ${EDGE_SERVICE}`,
        `    approvers: [${EDGE_APPROVER}, ${PEOPLE.approver}]`,
      ].join('\n'),
    });
    const help = (JSON.parse((await h.command('help')).body) as { text: string }).text;
    expect(help).toContain('with their own: edge: <@UEDGE>, <@UAPP>');
    await h.command('cdn edge both serve stale assets');
    const { id, message } = await awaitBatch();
    expect(textOf(message)).toMatch(/Needs one approver allowed on every target/);
    expect(textOf(message)).toMatch(/edge: <@UEDGE>, <@UAPP>/);

    // The group member may approve cdn (S0SRE is in the file's list) but not edge.
    await clickBatch('approve', message, id, PEOPLE.groupMember);
    await h.slack.waitFor(() =>
      h
        .privateTo(PEOPLE.groupMember)
        .some((t) => /You are not an approver for edge\..*Approvers for edge: <@UEDGE>, <@UAPP>/s.test(t)),
    );
    // Edge's own approver is not on cdn's (the file's) list.
    await clickBatch('approve', message, id, EDGE_APPROVER);
    await h.slack.waitFor(() =>
      h
        .privateTo(EDGE_APPROVER)
        .some((t) => /You are not an approver for rollbacks\..*Approvers: <@UAPP>, <!subteam\^S0SRE>/s.test(t)),
    );
    expect(notices()).toHaveLength(0);
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(42);
    expect(h.fastly.activeVersion(EDGE_SERVICE)).toBe(7);

    await clickBatch('approve', message, id, PEOPLE.approver);
    const notice = await h.slack.waitFor(() => notices()[0], 10_000);
    expect(notice.text).toBe('Rolling back cdn + edge: cdn to v41, edge to v6');
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /2 of 2 back on their versions/.test(textOf(m))),
      30_000,
    );
    expect(h.fastly.activeVersion(EDGE_SERVICE)).toBe(6);
  }, 90_000);

  it('a failure of one target does not stop the others: each has its own outcome line, the summary counts both', async () => {
    h = await startHarness({
      services: [
        { id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 },
        { id: EDGE_SERVICE, name: 'edge-prod', versions: 7, active: 7 },
      ],
      extraTargets: ['  edge:', '    kind: fastly', `    serviceId: ${EDGE_SERVICE}`].join('\n'),
    });
    // Fastly refuses edge's activation (a 4xx is never tried again).
    h.fastly.injectFaults({
      status: 422,
      count: 1,
      match: ({ method, path }) => method === 'PUT' && path.includes(`/service/${EDGE_SERVICE}/version/6/activate`),
    });
    await h.command('cdn edge bad config');
    const { id, message } = await awaitBatch();
    await clickBatch('approve', message, id, PEOPLE.approver);
    const notice = await h.slack.waitFor(() => notices()[0], 10_000);
    const summary = await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on their versions/.test(textOf(m))),
      30_000,
    );
    expect(textOf(summary)).toMatch(
      /⚠️ \*cdn \+ edge: 1 of 2 back on their versions, verified, [^*]+\*\n• \*edge\* failed: /,
    );
    const all = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');
    expect(all).toContain('*cdn is back on v41*, verified.');
    expect(all).toMatch(/❌ \*Rollback of edge failed\*/);
    await h.slack.waitFor(() => /⚠️ 1 of 2 done — see thread/.test(textOf(notices()[0] as SimMessage)));
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);
    expect(h.fastly.activeVersion(EDGE_SERVICE)).toBe(7);
    // cdn is frozen by its rollback; edge, never changed, is not.
    expect(await h.redis.exists(`${h.prefix}:freeze:cdn`)).toBe(1);
    expect(await h.redis.exists(`${h.prefix}:freeze:edge`)).toBe(0);
  }, 60_000);

  it('refused as a whole: one target without a previous version and one locked are listed with their reasons; nothing is requested', async () => {
    h = await startHarness({
      services: [
        { id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 },
        { id: EDGE_SERVICE, name: 'edge-prod', versions: 1, active: 1 },
      ],
      extraTargets: ['  edge:', '    kind: fastly', `    serviceId: ${EDGE_SERVICE}`].join('\n'),
    });
    await h.command('cdn edge bad config');
    const refusal = await h.slack.waitFor(
      () => h.privateTo(PEOPLE.requester).find((t) => /Nothing was requested/.test(t)),
      10_000,
    );
    expect(refusal).toContain('one approval covers all 2 targets or none, and 1 of them cannot be rolled back now');
    expect(refusal).toMatch(/✅ \*cdn\*: v42 → \*v41\*/);
    expect(refusal).toMatch(/🚫 \*edge\*: /);
    expect(refusal).toContain('Ask again without them: `/rollback cdn bad config`');
    expect(h.slack.messages(CHANNELS.command).filter((m) => /Rollback requested/.test(textOf(m)))).toHaveLength(0);
    expect(await h.redis.keys(`${h.prefix}:request:*`)).toHaveLength(0);
  }, 60_000);

  it('a Fastly group larger than the writes left this hour is refused at plan time with the figures', async () => {
    h = await startHarness({
      services: [
        { id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 },
        { id: EDGE_SERVICE, name: 'edge-prod', versions: 7, active: 7 },
      ],
      extraTargets: ['  edge:', '    kind: fastly', `    serviceId: ${EDGE_SERVICE}`].join('\n'),
      settings: ['groups: { sites: [cdn, edge] }'],
    });
    // Other writes by the same Fastly user this hour leave one.
    h.fastly.spendWrites(999);
    await h.command('sites broken');
    const refusal = await h.slack.waitFor(
      () => h.privateTo(PEOPLE.requester).find((t) => /Nothing was requested/.test(t)),
      10_000,
    );
    expect(refusal).toMatch(
      /Rolling back these 2 targets needs 2 writes with the Fastly API token, but its rate limit allows only 1 more until \d\d:00 UTC/,
    );
    expect(refusal).toContain('Ask for at most 1 of them now');
    expect(await h.redis.keys(`${h.prefix}:request:*`)).toHaveLength(0);
  }, 60_000);

  it('Cancel closes every target of the request; a member cannot be approved on its own', async () => {
    h = await startHarness({ settings: ['groups: { checkout: [cdn] }'] });
    await h.command('checkout wrong service');
    const { id, message } = await awaitBatch();
    const member = await h.redis.keys(`${h.prefix}:request:*`);
    expect(member).toHaveLength(1);
    const memberId = (member[0] ?? '').split(':').at(-1) ?? '';
    // The member's own id on a single-target Approve button is refused: it goes only with its batch.
    await h.click('approve', { id: memberId, channel: message.channel, ts: message.ts }, PEOPLE.approver);
    await h.slack.waitFor(() =>
      h.privateTo(PEOPLE.approver).some((t) => /does not exist|approved or cancelled only with/.test(t)),
    );
    await clickBatch('cancel', message, id, PEOPLE.requester);
    await h.slack.waitFor(() =>
      h.slack.messages(CHANNELS.command).some((m) => m.ts === message.ts && /Cancelled/.test(textOf(m))),
    );
    await clickBatch('approve', message, id, PEOPLE.approver);
    await h.slack.waitFor(() => h.privateTo(PEOPLE.approver).some((t) => /cancelled by/.test(t)));
    expect(notices()).toHaveLength(0);
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(42);
  }, 60_000);

  it('break-glass for a group: after selfApprovalAfter the requester confirms the group name in the modal; all run, every word says so', async () => {
    let ahead = 0;
    h = await startHarness({
      settings: ['selfApprovalAfter: 10m', 'groups: { checkout: [cdn] }'],
      now: () => Date.now() + ahead,
    });
    await h.command('checkout nobody answers');
    const { id, message } = await awaitBatch();
    await clickBatch('approve', message, id, PEOPLE.requester);
    await h.slack.waitFor(() =>
      h
        .privateTo(PEOPLE.requester)
        .some((t) => /You may approve it yourself from \d\d:\d\d UTC if no approver has acted/.test(t)),
    );
    expect(h.slack.viewsOf(PEOPLE.requester)).toEqual([]);

    ahead = 10 * 60_000;
    await clickBatch('approve', message, id, PEOPLE.requester);
    const modal = await h.slack.waitFor((sim) => sim.viewsOf(PEOPLE.requester)[0]);
    expect(textOf(modal.view)).toContain('No approver has acted on your rollback of checkout.');
    expect(textOf(modal.view)).toContain('Type checkout to confirm');
    const wrong = await h.submitView(modal.id, { break_glass_target: { target_name: 'cdn' } });
    expect(wrong.outcome).toBe('errors');
    expect(notices()).toHaveLength(0);
    const right = await h.submitView(modal.id, { break_glass_target: { target_name: 'checkout' } });
    expect(right.outcome).toBe('closed');
    const notice = await h.slack.waitFor(() => notices()[0], 10_000);
    expect(textOf(notice)).toContain(
      'self-approved after 10 min without an approver (break-glass)* · approvers <@UAPP>',
    );
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /1 of 1 back on their versions/.test(textOf(m))),
      30_000,
    );
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');
    expect(thread).toContain('cdn: <@UREQ> self-approved after 10 min without an approver (break-glass)');
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);
  }, 60_000);

  it('a member does not hold its worker slot while Slack is slow to take its thread: the next member rolls back meanwhile', async () => {
    // One worker slot, two targets. Slack rate-limits the notice for 6 s: every thread line waits for it.
    h = await startHarness({
      workerConcurrency: 1,
      services: [
        { id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 },
        { id: EDGE_SERVICE, name: 'edge-prod', versions: 7, active: 7 },
      ],
      extraTargets: ['  edge:', '    kind: fastly', `    serviceId: ${EDGE_SERVICE}`].join('\n'),
    });
    await h.command('cdn edge bad config');
    const { id, message } = await awaitBatch();
    h.slack.injectErrors({ method: 'chat.postMessage', count: 1, status: 429, retryAfterSeconds: 6 });
    await clickBatch('approve', message, id, PEOPLE.approver);
    const notice = await h.slack.waitFor(() => notices()[0], 15_000);
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /2 of 2 back on their versions/.test(textOf(m))),
      30_000,
    );
    // Both services were activated before Slack took the notice: the second member did not wait for the
    // first one's lines (it would have, holding the only slot, until the notice and its thread were out).
    const noticeAt = Number(notice.ts) * 1000;
    const activated = h.fastly.activations.map((a) => Date.parse(a.at));
    expect(activated).toHaveLength(2);
    for (const at of activated) expect(at).toBeLessThan(noticeAt);
    // And the thread still reads in order: each member's lines, then the summary last.
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf);
    expect(thread.at(-1)).toMatch(/2 of 2 back on their versions/);
  }, 60_000);

  it("a group's members share one writer: their lines are packed into few thread messages, each target's in order", async () => {
    const ids = ['EDGEsvc0000000000001', 'EDGEsvc0000000000002', 'EDGEsvc0000000000003', 'EDGEsvc0000000000004'];
    h = await startHarness({
      services: [
        { id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 },
        ...ids.map((id, i) => ({ id, name: `edge-${i + 1}`, versions: 7, active: 7 })),
      ],
      extraTargets: ids
        .map((id, i) => [`  edge${i + 1}:`, '    kind: fastly', `    serviceId: ${id}`].join('\n'))
        .join('\n'),
      settings: ['groups: { sites: [cdn, edge1, edge2, edge3, edge4] }'],
    });
    await h.command('sites bad config push');
    const { id, message } = await awaitBatch();
    // Slack is slow (as when it paces a channel's messages): lines pile up while each message is taken.
    h.slack.setLatency(150);
    await clickBatch('approve', message, id, PEOPLE.approver);
    const notice = await h.slack.waitFor(() => notices()[0], 10_000);
    await h.slack.waitFor(
      (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /5 of 5 back on their versions/.test(textOf(m))),
      30_000,
    );
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf);
    // One message per member and the summary would be 6 (11 with the checklists); shared, the lines are packed.
    const steps = thread.filter((t) => !/After the rollback/.test(t));
    expect(steps.length).toBeLessThan(5);
    const all = steps.join('\n');
    for (const target of ['cdn', 'edge1', 'edge2', 'edge3', 'edge4']) {
      const activated = all.indexOf(`${target}: Activated`);
      const back = all.indexOf(`*${target} is back on`);
      expect(activated).toBeGreaterThanOrEqual(0);
      expect(back).toBeGreaterThan(activated);
    }
    expect(thread.at(-1)).toMatch(/5 of 5 back on their versions/);
  }, 60_000);
});
