/**
 * Helm rollback figures on the Kubernetes simulator: the bot (signed Approve click → rollout complete
 * and verified in the thread) against what a person types from the runbook (`helm rollback app <rev>
 * --wait` then `kubectl rollout status deployment/app`), with the real binaries, same simulator settings.
 *
 *   npx tsx scripts/kube-figures.ts [--rounds 5] [--ready-delay 300]
 */
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { appRelease, CHANNELS, PEOPLE, startHarness } from '../test/support/harness.js';
import { kubeBinaries } from '../test/support/kube-binaries.js';
import { KubeSimulator } from '../test/support/kube-simulator/index.js';
import { textOf } from '../test/support/slack-simulator.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, 'ready-delay': { type: 'string', default: '300' } },
});
const rounds = Number(values.rounds);
const readyDelayMs = Number(values['ready-delay']);
const { helm, kubectl } = await kubeBinaries();

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;

const bot: { rolloutDone: number[]; verified: number[] } = { rolloutDone: [], verified: [] };
for (let i = 0; i < rounds; i++) {
  const h = await startHarness({ kube: { readyDelayMs } });
  await h.command('api figures');
  const request = await h.awaitRequest();
  const clickedAt = Date.now();
  await h.click('approve', request, PEOPLE.approver);
  const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs), 10_000);
  const rollout = await h.slack.waitFor(
    (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /successfully rolled out/.test(textOf(m))),
    60_000,
  );
  const final = await h.slack.waitFor(
    (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /back on|failed/.test(textOf(m))),
    60_000,
  );
  if (!/back on/.test(textOf(final))) throw new Error(textOf(final));
  const at = (ts: string) =>
    h.slack.calls.find(
      (c) =>
        c.method === 'chat.postMessage' &&
        (c as { args: { text?: string } }).args.text ===
          h.slack.thread(CHANNELS.incident, notice.ts).find((m) => m.ts === ts)?.text,
    )?.at ?? Date.now();
  bot.rolloutDone.push(at(rollout.ts) - clickedAt);
  bot.verified.push(at(final.ts) - clickedAt);
  await h.close();
}

const manual: number[] = [];
for (let i = 0; i < rounds; i++) {
  const sim = await KubeSimulator.start({ readyDelayMs });
  sim.seedHelmRelease(appRelease(['superseded', 'deployed']));
  const env = { ...process.env, KUBECONFIG: sim.writeKubeconfig() };
  const started = Date.now();
  await run(helm, ['rollback', 'app', '1', '--namespace', 'prod', '--wait', '--timeout', '300s'], { env });
  await run(kubectl, ['rollout', 'status', 'deployment/app', '--namespace', 'prod', '--timeout=5m'], { env });
  manual.push(Date.now() - started);
  await sim.close();
}

console.log(
  `\n${rounds} Helm rollbacks of release app (2 replicas), pods ready ${readyDelayMs} ms after creation, Kubernetes simulator\n`,
);
console.log('| what (median of rounds, ms)                                        |  median |     max |');
console.log('|--------------------------------------------------------------------|---------|---------|');
const row = (name: string, v: number[]) =>
  console.log(
    `| ${name.padEnd(66)} | ${String(Math.round(median(v))).padStart(7)} | ${String(Math.round(Math.max(...v))).padStart(7)} |`,
  );
row('bot: Approve click → "successfully rolled out" in the thread', bot.rolloutDone);
row('bot: Approve click → verified (release, rollout, images) in thread', bot.verified);
row('by hand: helm rollback --wait + kubectl rollout status (no Slack)', manual);
