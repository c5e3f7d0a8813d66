/**
 * Alert → proposal, measured: the bot (app and worker in this process, as the harness runs it) on the Slack and
 * Fastly simulators and a real Redis. Each round fires a new alert for cdn and waits for its proposal in
 * #incidents, then cancels it so that the next alert proposes again. Two ways in: posted straight to the webhook
 * (the bot's own time: parse, read what is live and since when, plan, post), and through the real Alertmanager
 * (`prometheus-alertmanager`, when installed), whose group_wait comes first.
 *
 *   npx tsx scripts/alert-figures.ts [--rounds 10] [--group-wait 200ms] [--latency 0]
 */
import { parseArgs } from 'node:util';
import { AlertmanagerServer, alertmanagerBinary } from '../test/support/alertmanager-server.js';
import { CDN_SERVICE, CHANNELS, PEOPLE, startHarness } from '../test/support/harness.js';
import { textOf } from '../test/support/slack-simulator.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    'group-wait': { type: 'string', default: '200ms' },
    latency: { type: 'string', default: '0' },
  },
});
const rounds = Number(values.rounds);
const TOKEN = 'figures-api-token-0123456789abcdef';

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const h = await startHarness({
  apiToken: TOKEN,
  services: [{ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 42 }],
});
h.slack.setLatency(Number(values.latency));
h.fastly.setLatency(Number(values.latency));
const webhookUrl = `http://127.0.0.1:${h.running.port}/v1/alerts/alertmanager`;
let seq = 0;

/** Fires one alert by `send`, waits for its proposal, cancels it; returns ms from sending to the proposal posted. */
async function round(send: (alertname: string) => Promise<void>): Promise<number> {
  const alertname = `HighErrorRate${++seq}`;
  const calls = h.slack.calls.length;
  const sent = Date.now();
  await send(alertname);
  const posted = await h.slack.waitFor(
    (sim) =>
      sim.calls
        .slice(calls)
        .find((c) => c.method === 'chat.postMessage' && textOf(c.args).includes(`${alertname} firing for cdn`)),
    30_000,
  );
  const proposal = await h.slack.waitFor((sim) =>
    sim.messages(CHANNELS.incident).find((m) => textOf(m).includes(`${alertname} firing for cdn`)),
  );
  const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(proposal))?.[1] ?? '';
  await h.click('cancel', { id, channel: proposal.channel, ts: proposal.ts }, PEOPLE.approver);
  await h.slack.waitFor((sim) =>
    /Cancelled/.test(textOf(sim.messages(CHANNELS.incident).find((m) => m.ts === proposal.ts) ?? {})),
  );
  return posted.at - sent;
}

const direct = async (alertname: string) => {
  const alert = {
    status: 'firing',
    labels: { alertname, rollback_target: 'cdn' },
    annotations: {},
    startsAt: new Date().toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint: alertname,
  };
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ version: '4', status: 'firing', receiver: 'figures', alerts: [alert] }),
  });
  if (!response.ok) throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
};

const rows: Array<[string, number[]]> = [];
try {
  const posted: number[] = [];
  for (let i = 0; i < rounds; i++) posted.push(await round(direct));
  rows.push(['alert posted to the webhook → proposal posted', posted]);
  if (alertmanagerBinary()) {
    const alertmanager = await AlertmanagerServer.start({
      webhookUrl,
      token: TOKEN,
      groupWait: values['group-wait'],
    });
    try {
      const through: number[] = [];
      for (let i = 0; i < rounds; i++)
        through.push(
          await round((alertname) => alertmanager.post([{ labels: { alertname, rollback_target: 'cdn' } }])),
        );
      rows.push([`alert sent to Alertmanager (group_wait ${values['group-wait']}) → proposal posted`, through]);
    } finally {
      await alertmanager.stop();
    }
  } else {
    console.log('prometheus-alertmanager is not installed: only the webhook row is measured.');
  }
} finally {
  await h.close();
}
console.log(`\n${rounds} rounds each, Slack and Fastly latency ${values.latency} ms per call\n`);
for (const [name, samples] of rows)
  console.log(
    `${name.padEnd(70)} p50 ${Math.round(percentile(samples, 50))} ms · max ${Math.round(Math.max(...samples))} ms`,
  );
