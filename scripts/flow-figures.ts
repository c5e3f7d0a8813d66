/**
 * Runs the real bot (`node dist/main.js`, as `npm start` does) against the Slack and Fastly simulators
 * and a real Redis, plays N rollbacks as people would (signed slash command, signed Approve click),
 * and prints what they would feel: ack latency, approve → activation, approve → verified.
 *
 *   npm run build && npx tsx scripts/flow-figures.ts [--rollbacks 20] [--latency 0]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FastlySimulator } from '../test/support/fastly-simulator.js';
import { blockAction, sendToApp, slashCommand } from '../test/support/slack-payloads.js';
import { SlackSimulator, textOf } from '../test/support/slack-simulator.js';

const { values } = parseArgs({
  options: { rollbacks: { type: 'string', default: '20' }, latency: { type: 'string', default: '0' } },
});
const rounds = Number(values.rollbacks);
const latencyMs = Number(values.latency);
const SECRET = 'figures-secret';
const SERVICE = 'SU1Z0isxPaozGVKXdv0eY';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const slack = await SlackSimulator.start();
slack.addChannel({ id: 'CCMD', name: 'ops' });
slack.addChannel({ id: 'CINC', name: 'incidents' });
const fastly = await FastlySimulator.start({ latencyMs });
fastly.addService({ id: SERVICE, name: 'www-prod', versions: 42, active: 42 });

const dir = mkdtempSync(join(tmpdir(), 'rr-figures-'));
writeFileSync(
  join(dir, 'rollback.yml'),
  `incidentChannel: CINC\napprovers: [UAPP]\ntargets:\n  cdn:\n    kind: fastly\n    serviceId: ${SERVICE}\n`,
);
const port = await freePort();
const prefix = `rr-figures-${process.pid}`;
const bot = spawn(process.execPath, ['dist/main.js'], {
  env: {
    ...process.env,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    PORT: String(port),
    ROLLBACK_CONFIG: join(dir, 'rollback.yml'),
    FASTLY_API_TOKEN: fastly.token,
    FASTLY_API_URL: fastly.url,
    LOG_LEVEL: 'warn',
    REDIS_PREFIX: prefix,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const url = `http://127.0.0.1:${port}/slack/events`;
for (let i = 0; ; i++) {
  const up = await fetch(url, { method: 'POST' }).then(
    () => true,
    () => false,
  );
  if (up) break;
  if (i > 100) throw new Error('the bot did not start');
  await new Promise((r) => setTimeout(r, 100));
}

const acks: number[] = [];
const toActivation: number[] = [];
const toVerified: number[] = [];
let nextVersion = 43;
for (let round = 0; round < rounds; round++) {
  const before = slack.messages('CCMD').filter((m) => !m.threadTs).length;
  const command = await sendToApp(
    url,
    slashCommand({
      text: 'cdn figures',
      userId: 'UREQ',
      channelId: 'CCMD',
      responseUrl: slack.newResponseUrl({ userId: 'UREQ' }),
    }),
    { signingSecret: SECRET },
  );
  acks.push(command.ms);
  const request = await slack.waitFor((sim) => sim.messages('CCMD').filter((m) => !m.threadTs)[before], 10_000);
  const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(request))![1]!;
  const activationsBefore = fastly.activations.length;
  const noticesBefore = slack.messages('CINC').filter((m) => !m.threadTs).length;
  const clickedAt = Date.now();
  await sendToApp(
    url,
    blockAction({
      actionId: 'rollback_approve',
      value: id,
      userId: 'UAPP',
      channelId: 'CCMD',
      messageTs: request.ts,
      responseUrl: slack.newResponseUrl({ userId: 'UAPP' }),
    }),
    { signingSecret: SECRET },
  );
  const notice = await slack.waitFor((sim) => sim.messages('CINC').filter((m) => !m.threadTs)[noticesBefore], 10_000);
  const final = await slack.waitFor(
    () => slack.thread('CINC', notice.ts).find((m) => /back on|failed|stopped/.test(textOf(m))),
    30_000,
  );
  if (!/back on/.test(textOf(final))) throw new Error(`round ${round}: ${textOf(final)}`);
  const activation = fastly.activations[activationsBefore]!;
  toActivation.push(Date.parse(activation.at) - clickedAt);
  const finalCall = slack.calls.find(
    (c) => c.method === 'chat.postMessage' && typeof c.args.text === 'string' && c.args.text === final.text,
  );
  toVerified.push((finalCall?.at ?? Date.now()) - clickedAt);
  // Someone fixes forward: a new version goes live, so the next round has something to roll back.
  fastly.addVersion(SERVICE, { number: nextVersion, locked: true, comment: `fix ${nextVersion}` });
  fastly.activateOutOfBand(SERVICE, nextVersion++);
}

bot.kill('SIGTERM');
await new Promise((r) => bot.once('exit', r));
await Promise.all([slack.close(), fastly.close()]);

const row = (name: string, v: number[]) =>
  `| ${name.padEnd(34)} | ${String(Math.round(percentile(v, 50))).padStart(6)} | ${String(Math.round(percentile(v, 99))).padStart(6)} | ${String(Math.round(Math.max(...v))).padStart(6)} |`;
console.log(`\n${rounds} rollbacks, simulator latency ${latencyMs} ms per Fastly call, real bot process, real Redis\n`);
console.log('| figure (ms)                        |    p50 |    p99 |    max |');
console.log('|------------------------------------|--------|--------|--------|');
console.log(row('slash command → ack (HTTP 200)', acks));
console.log(row('approve click → Fastly activation', toActivation));
console.log(row('approve click → verified in thread', toVerified));
