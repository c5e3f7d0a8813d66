import { afterEach, describe, expect, it } from 'vitest';
import { plainText } from '../../src/core/text.js';
import { RedisRequestStore } from '../../src/store/redis-request-store.js';
import { AlertmanagerServer } from '../support/alertmanager-server.js';
import { CDN_SERVICE, CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { type SimMessage, textOf } from '../support/slack-simulator.js';
import { waitUntil } from '../support/wait.js';

const TOKEN = 'alerts-test-token-0123456789abcdef';

let h: Harness | undefined;
let alertmanager: AlertmanagerServer | undefined;
afterEach(async () => {
  await alertmanager?.stop();
  alertmanager = undefined;
  await h?.close();
  h = undefined;
});

function webhookUrl(harness: Harness): string {
  return `http://127.0.0.1:${harness.running.port}/v1/alerts/alertmanager`;
}

/** A version 4 payload as Alertmanager sends it. */
function payload(
  alerts: Array<{
    labels: Record<string, string>;
    status?: 'firing' | 'resolved';
    startsAt?: number;
    endsAt?: number;
    fingerprint?: string;
    annotations?: Record<string, string>;
  }>,
) {
  const full = alerts.map((a, i) => ({
    status: a.status ?? 'firing',
    labels: a.labels,
    annotations: a.annotations ?? {},
    startsAt: new Date(a.startsAt ?? Date.now()).toISOString(),
    endsAt: a.endsAt === undefined ? '0001-01-01T00:00:00Z' : new Date(a.endsAt).toISOString(),
    generatorURL: 'http://prometheus.example/graph',
    fingerprint: a.fingerprint ?? `f${i}${a.labels.alertname ?? ''}`,
  }));
  return {
    version: '4',
    groupKey: '{}:{alertname="HighErrorRate"}',
    truncatedAlerts: 0,
    status: full.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'rapid-rollback',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example',
    alerts: full,
  };
}

async function send(harness: Harness, body: unknown, token: string | null = TOKEN) {
  const response = await fetch(webhookUrl(harness), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function proposals(harness: Harness): SimMessage[] {
  return harness.slack.messages(CHANNELS.incident).filter((m) => /Rollback proposed/.test(textOf(m)));
}

/** Proposals posted so far (a decided one is rewritten without its mark). */
function posted(harness: Harness): number {
  return harness.slack.callsTo('chat.postMessage').filter((c) => c.ok && /Rollback proposed/.test(textOf(c.args)))
    .length;
}

function requestOf(message: SimMessage) {
  const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(message))?.[1];
  if (!id) throw new Error(`no request id in: ${textOf(message)}`);
  return { id, channel: message.channel, ts: message.ts };
}

describe('alerts propose a rollback', () => {
  it('through the real Alertmanager: the same alert notified again and again (repeat_interval 1s) makes one proposal, never a second', async () => {
    h = await startHarness({ apiToken: TOKEN });
    const harness = h;
    alertmanager = await AlertmanagerServer.start({
      webhookUrl: webhookUrl(harness),
      token: TOKEN,
      repeatInterval: '1s',
    });
    const server = alertmanager;
    await server.post([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn', severity: 'page' } }]);
    const proposal = await harness.slack.waitFor(() => proposals(harness)[0], 15_000);
    const firstText = textOf(proposal);
    const firstEdits = proposal.updates;
    // Alertmanager sends the unchanged group again every second or so: wait for three more notifications.
    const first = await server.webhookNotifications();
    await waitUntil(
      'three repeated notifications',
      async () => (await server.webhookNotifications()) >= first + 3,
      30_000,
    );
    expect(posted(harness)).toBe(1);
    const now = textOf(harness.slack.messages(CHANNELS.incident).find((m) => m.ts === proposal.ts) ?? {});
    // Nothing was added to it either: not edited, the alert's line there once, as in the first post.
    expect(now.match(/• HighErrorRate firing since/g)).toHaveLength(1);
    expect(now).toBe(firstText);
    expect(harness.slack.messages(CHANNELS.incident).find((m) => m.ts === proposal.ts)?.updates).toBe(firstEdits);
    expect(harness.fastly.activations).toHaveLength(0);
    // The operators see it in /metrics: one proposed, the rest repeats.
    const metrics = await (await fetch(`http://127.0.0.1:${harness.running.port}/metrics`)).text();
    expect(metrics).toContain('rollback_alerts_total{result="proposed",target="cdn"} 1\n');
    const repeats = Number(/rollback_alerts_total\{result="repeat",target="cdn"\} (\d+)/.exec(metrics)?.[1]);
    expect(repeats).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('through the real Alertmanager: the proposal appears in the incident channel, later alerts join it, a resolved one is noted, and only an approval runs it', async () => {
    h = await startHarness({ apiToken: TOKEN });
    const harness = h;
    alertmanager = await AlertmanagerServer.start({ webhookUrl: webhookUrl(harness), token: TOKEN });

    await alertmanager.post([
      {
        labels: { alertname: 'HighErrorRate', rollback_target: 'cdn', severity: 'page' },
        annotations: { summary: '5xx above 1 % on www' },
      },
    ]);
    const proposal = await harness.slack.waitFor(() => proposals(harness)[0], 15_000);
    const words = textOf(proposal);
    // The simulator's v42 went live ten minutes before the harness started.
    expect(words).toMatch(
      /🔔 HighErrorRate firing for cdn since \d\d:\d\d, (9|10) min after v42 went live\. Roll back to v41\?/,
    );
    expect(words).toContain('HighErrorRate firing since');
    expect(words).toContain('5xx above 1 % on www');
    expect(words).toContain('*Requested by* Alertmanager');
    expect(words).toMatch(/Approve rollback to v41/);
    const request = requestOf(proposal);
    // Proposed, not run: no job, no activation.
    expect(await harness.jobState(request.id)).toBe('unknown');
    expect(harness.fastly.activations).toEqual([]);

    // A second alert for cdn joins the same message.
    await alertmanager.post([{ labels: { alertname: 'LatencyHigh', rollback_target: 'cdn' } }]);
    await harness.slack.waitFor(() => /LatencyHigh firing since/.test(textOf(proposals(harness)[0] ?? {})), 15_000);
    expect(proposals(harness)).toHaveLength(1);

    // LatencyHigh resolves: its line says so.
    const endsAt = new Date(Date.now() - 1_000).toISOString();
    await alertmanager.post([{ labels: { alertname: 'LatencyHigh', rollback_target: 'cdn' }, endsAt }]);
    await harness.slack.waitFor(
      () =>
        /LatencyHigh firing since \d\d:\d\d — resolved at \d\d:\d\d; consider Cancel/.test(
          textOf(proposals(harness)[0] ?? {}),
        ),
      15_000,
    );
    expect(textOf(proposals(harness)[0] as SimMessage)).not.toMatch(
      /HighErrorRate firing since \d\d:\d\d[^\n]*resolved/,
    );

    // Any approver may approve: the requester is Alertmanager.
    await harness.click('approve', request, PEOPLE.approver);
    await harness.jobEnded(request.id);
    expect(harness.fastly.activeVersion(CDN_SERVICE)).toBe(41);
    expect(harness.fastly.activations).toHaveLength(1);
    // Decided, the message keeps its mark: the rollback was proposed by alerts.
    const decided = await harness.slack.waitFor((sim) =>
      sim.messages(CHANNELS.incident).find((m) => m.ts === request.ts && /Approved/.test(textOf(m))),
    );
    expect(textOf(decided)).toContain('🔔 Rollback (proposed by alerts): cdn');

    // HighErrorRate resolves after the rollback: said in the rollback's thread.
    const notice = await harness.slack.waitFor((sim) =>
      sim.messages(CHANNELS.incident).find((m) => !m.threadTs && /Rolling back cdn/.test(textOf(m))),
    );
    await alertmanager.post([
      {
        labels: { alertname: 'HighErrorRate', rollback_target: 'cdn', severity: 'page' },
        endsAt: new Date(Date.now() - 1_000).toISOString(),
      },
    ]);
    await harness.slack.waitFor(
      (sim) =>
        sim
          .thread(CHANNELS.incident, notice.ts)
          .find((m) => /✅ HighErrorRate resolved at \d\d:\d\d UTC \(Alertmanager\)/.test(textOf(m))),
      15_000,
    );

    // The incident record keeps what the alerts did.
    const timeline = await new RedisRequestStore(harness.redis, { prefix: harness.prefix }).timeline(request.id);
    const alertLines = timeline.filter((e) => e.kind === 'alert').map((e) => plainText(e.text));
    expect(alertLines).toEqual([
      expect.stringMatching(
        /^🔔 HighErrorRate firing for cdn since .*Roll back to v41\? \(proposed by Alertmanager\)$/,
      ),
      expect.stringMatching(/^LatencyHigh firing since \d\d:\d\d UTC \(Alertmanager\): added to this proposal$/),
      expect.stringMatching(/^LatencyHigh resolved at \d\d:\d\d UTC \(Alertmanager\)$/),
      expect.stringMatching(/^HighErrorRate resolved at \d\d:\d\d UTC \(Alertmanager\)$/),
    ]);
  });
});

describe('POST /v1/alerts/alertmanager', () => {
  it('refuses a wrong or missing token with 401 and a malformed payload with 400 and the reason', async () => {
    h = await startHarness({ apiToken: TOKEN });
    const body = payload([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn' } }]);

    expect((await send(h, body, 'wrong-token-0123456789abcdef')).status).toBe(401);
    expect((await send(h, body, null)).status).toBe(401);

    const notJson = await send(h, '{"version": "4", ');
    expect(notJson).toEqual({
      status: 400,
      body: { error: { code: 'PAYLOAD_INVALID', message: 'The body is not JSON.' } },
    });
    const oldVersion = await send(h, { ...body, version: '3' });
    expect(oldVersion.status).toBe(400);
    expect(JSON.stringify(oldVersion.body)).toContain('version: must be \\"4\\"');
    // Prometheus's own body (a list of alerts) sent here by mistake.
    expect((await send(h, body.alerts)).status).toBe(400);
    const broken = { ...body, alerts: [{ ...body.alerts[0], startsAt: 'yesterday' }] };
    const answer = await send(h, broken);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('alerts.0.startsAt: \\"yesterday\\" is not an RFC 3339 time');
    // Nothing was proposed by any of them.
    expect(proposals(h)).toEqual([]);
  });

  it('proposes once for a repeated notification, and says what it did with each alert', async () => {
    h = await startHarness({ apiToken: TOKEN });
    const body = payload([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn' }, fingerprint: 'abc123' }]);

    const first = await send(h, body);
    expect(first.status).toBe(200);
    expect(first.body.alerts).toEqual([
      expect.objectContaining({
        fingerprint: 'abc123',
        target: 'cdn',
        result: 'proposed',
        request: expect.stringMatching(/^rb-/),
      }),
    ]);
    const again = await send(h, body);
    expect(again.body.alerts).toEqual([expect.objectContaining({ result: 'repeat', target: 'cdn' })]);
    expect(proposals(h)).toHaveLength(1);
  });

  it('does not propose an alert outside proposeWithin, for no target, or that started before the deploy', async () => {
    h = await startHarness({
      apiToken: TOKEN,
      cdnExtra: ['    alerts: { match: { service: www }, proposeWithin: 5m }'],
    });
    const answer = await send(
      h,
      payload([
        // v42 went live ten minutes ago: outside cdn's five minutes.
        { labels: { alertname: 'HighErrorRate', service: 'www' } },
        { labels: { alertname: 'DiskFull', service: 'db' } },
        { labels: { alertname: 'Old', rollback_target: 'cdn' }, startsAt: Date.now() - 3_600_000 },
        { labels: { alertname: 'Typo', rollback_target: 'cnd' } },
      ]),
    );
    expect(answer.status).toBe(200);
    const results = (answer.body.alerts as Array<{ alertname: string; result: string; detail: string }>).map(
      (a) => `${a.alertname}: ${a.result}: ${a.detail}`,
    );
    expect(results).toEqual([
      expect.stringMatching(
        /^HighErrorRate: outside-window: started (9|10) min after v42 went live \(\d\d:\d\d UTC\), outside proposeWithin \(5 min\); not proposed$/,
      ),
      "DiskFull: no-target: no target: no rollback_target label, and no target's alerts.match fits its labels",
      expect.stringMatching(/^Old: outside-window: started at \d\d:\d\d UTC, before v42 went live/),
      'Typo: no-target: no target called "cnd" in rollback.yml',
    ]);
    expect(proposals(h)).toEqual([]);
  });

  it("matches rollback.yml's labels, and shows alert text as text", async () => {
    h = await startHarness({ apiToken: TOKEN, cdnExtra: ['    alerts: { match: { service: www, env: prod } }'] });
    const answer = await send(
      h,
      payload([
        {
          labels: { alertname: '<!channel> *Boom*', service: 'www', env: 'prod' },
          annotations: { summary: 'see <https://evil.example|here> @here' },
        },
      ]),
    );
    expect(answer.body.alerts).toEqual([expect.objectContaining({ result: 'proposed', target: 'cdn' })]);
    const message = proposals(h)[0] as SimMessage;
    const raw = JSON.stringify(message.blocks);
    expect(raw).not.toContain('<!channel>');
    expect(raw).not.toContain('<https://evil.example');
    expect(raw).toContain('&lt;!channel&gt;');
  });

  it('notes an alert for a frozen target in the rollback thread instead of proposing', async () => {
    h = await startHarness({ apiToken: TOKEN });
    const { notice } = await h.rollBack('cdn elevated 5xx');
    const answer = await send(h, payload([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn' } }]));
    expect(answer.body.alerts).toEqual([expect.objectContaining({ result: 'frozen', target: 'cdn' })]);
    const harness = h;
    const note = await h.slack.waitFor(() =>
      harness.slack.thread(CHANNELS.incident, notice.ts).find((m) => /HighErrorRate firing for cdn/.test(textOf(m))),
    );
    expect(textOf(note)).toContain('cdn is frozen after a rollback, so nothing is proposed');
    expect(proposals(h)).toEqual([]);
  });

  it('notes an alert for a target being rolled back in its thread, and proposes nothing when Fastly cannot say when v42 went live', async () => {
    // No worker: the approved rollback holds cdn's lock while it waits for one.
    h = await startHarness({ apiToken: TOKEN, mode: 'app' });
    const harness = h;
    await h.command('cdn elevated 5xx');
    const request = await h.awaitRequest();
    await h.click('approve', request, PEOPLE.approver);
    const notice = await h.slack.waitFor((sim) =>
      sim.messages(CHANNELS.incident).find((m) => !m.threadTs && /Rolling back cdn/.test(textOf(m))),
    );

    const locked = await send(h, payload([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn' } }]));
    expect(locked.body.alerts).toEqual([expect.objectContaining({ result: 'locked', request: request.id })]);
    const note = await h.slack.waitFor(() =>
      harness.slack.thread(CHANNELS.incident, notice.ts).find((m) => /HighErrorRate firing for cdn/.test(textOf(m))),
    );
    expect(textOf(note)).toContain('a rollback of cdn is already under way, so nothing is proposed');

    await h.close();
    h = await startHarness({ apiToken: TOKEN });
    h.fastly.setEventsForbidden(true);
    const unknown = await send(h, payload([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn' } }]));
    expect(unknown.body.alerts).toEqual([
      expect.objectContaining({
        result: 'deploy-time-unknown',
        detail:
          'fastly cannot say when v42 went live, so it is not known whether the alert followed a deploy; not proposed',
      }),
    ]);
    expect(proposals(h)).toEqual([]);
  });

  it('does not propose again for a deploy whose proposal a person cancelled, and proposes for the next deploy', async () => {
    h = await startHarness({ apiToken: TOKEN });
    const first = await send(h, payload([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn' } }]));
    expect(first.body.alerts).toEqual([expect.objectContaining({ result: 'proposed' })]);
    const proposal = requestOf(proposals(h)[0] as SimMessage);
    await h.click('cancel', proposal, PEOPLE.approver);
    const harness = h;
    await h.slack.waitFor(() =>
      /Cancelled/.test(textOf(harness.slack.messages(CHANNELS.incident).find((m) => m.ts === proposal.ts) ?? {})),
    );

    const again = await send(h, payload([{ labels: { alertname: 'LatencyHigh', rollback_target: 'cdn' } }]));
    expect(again.body.alerts).toEqual([
      expect.objectContaining({
        result: 'declined',
        request: proposal.id,
        detail: expect.stringMatching(
          new RegExp(
            `^the proposal to roll back v42 \\(${proposal.id}\\) was cancelled by UAPP at \\d\\d:\\d\\d UTC; not proposed again while v42 is live$`,
          ),
        ),
      }),
    ]);
    expect(posted(h)).toBe(1);

    // A new deploy: its alerts propose again.
    h.fastly.addVersion(CDN_SERVICE, { number: 43 });
    h.fastly.activateOutOfBand(CDN_SERVICE, 43);
    const next = await send(
      h,
      payload([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn' }, fingerprint: 'new' }]),
    );
    expect(next.body.alerts).toEqual([
      expect.objectContaining({
        result: 'proposed',
        detail: expect.stringMatching(/, under a minute after v43 went live\. Roll back to v42\?$/),
      }),
    ]);
    expect(posted(h)).toBe(2);
  });

  it('adds a storm of alerts to the proposal with one edit of its message', async () => {
    h = await startHarness({ apiToken: TOKEN });
    await send(h, payload([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn' } }]));
    const storm = Array.from({ length: 50 }, (_, i) => ({
      labels: { alertname: 'PodCrashLooping', pod: `www-${i}`, rollback_target: 'cdn' },
      fingerprint: `pod${i}`,
    }));
    const answer = await send(h, payload(storm));
    const results = (answer.body.alerts as Array<{ result: string }>).map((a) => a.result);
    expect(results).toEqual(Array(50).fill('added'));
    expect(h.slack.callsTo('chat.update')).toHaveLength(1);
    const message = textOf(proposals(h)[0] as SimMessage);
    expect(message.match(/PodCrashLooping firing since/g)).toHaveLength(50);
  });

  it('makes one proposal for two notifications about one target at once, in Socket Mode too', async () => {
    h = await startHarness({ apiToken: TOKEN, transport: 'socket' });
    const [a, b] = await Promise.all([
      send(h, payload([{ labels: { alertname: 'HighErrorRate', rollback_target: 'cdn' } }])),
      send(h, payload([{ labels: { alertname: 'LatencyHigh', rollback_target: 'cdn' } }])),
    ]);
    const results = [a, b].flatMap((r) => (r.body.alerts as Array<{ result: string }>).map((x) => x.result));
    expect(results.sort()).toEqual(['added', 'proposed']);
    expect(posted(h)).toBe(1);
  });
});
