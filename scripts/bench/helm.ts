/**
 * Row 4: a Helm rollback through the bot against the runbook's commands typed by hand, with the real
 * `helm` and `kubectl` binaries, on one Kubernetes simulator (pods Ready a set delay after creation).
 * As scripts/kube-figures.ts, but with the bot as a process (`node dist/main.js`) and both sides on the
 * same simulator: release `app` is seeded once per round in its own namespace (bot: prod<i>, by hand:
 * hand<i>), revisions 1 superseded and 2 deployed, 2 replicas; rounds alternate bot / by hand.
 *
 *  bot:     Approve click → "successfully rolled out" posted in the thread, and → "back on … verified";
 *  by hand: `helm rollback app 1 --namespace hand<i> --wait --timeout 300s`
 *           then `kubectl rollout status deployment/app --namespace hand<i> --timeout=5m` (wall clock).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubeBinaries } from '../../test/support/kube-binaries.js';
import { type HelmReleaseSpec, KubeSimulator } from '../../test/support/kube-simulator/index.js';
import { type SimCall, SlackSimulator } from '../../test/support/slack-simulator.js';
import {
  approve,
  awaitOrigin,
  type BotProcess,
  CHANNELS,
  checkDeadline,
  command,
  finalCall,
  postedRequests,
  startBot,
  tempDir,
  until,
  writeRollbackYml,
} from './common.js';

const run = promisify(execFile);

export interface HelmOptions {
  slackLatencyMs: number;
  readyDelayMs: number;
  rounds: number;
  prefix: string;
}

export interface HelmResult {
  /** Approve click → the thread's "successfully rolled out" line accepted by Slack. */
  botRolledOut: number[];
  /** Approve click → the final "back on …, verified" message accepted by Slack. */
  botVerified: number[];
  /** helm rollback --wait + kubectl rollout status, wall clock. */
  byHand: number[];
  /** helm rollback --wait alone, wall clock. */
  byHandHelm: number[];
}

function release(namespace: string): HelmReleaseSpec {
  return {
    name: 'app',
    namespace,
    chart: { name: 'api', version: '1.0.0', appVersion: '1.0.0' },
    revisions: (['superseded', 'deployed'] as const).map((status, i) => ({
      image: `registry/api:1.${i}.0`,
      appVersion: `1.${i}.0`,
      chartVersion: `1.${i}.0`,
      status,
    })),
  };
}

export async function helmFigures(options: HelmOptions): Promise<HelmResult> {
  const { helm, kubectl } = await kubeBinaries();
  const kube = await KubeSimulator.start({ readyDelayMs: options.readyDelayMs });
  const slack = await SlackSimulator.start();
  slack.addChannel({ id: CHANNELS.command, name: 'ops' });
  slack.addChannel({ id: CHANNELS.incident, name: 'incidents' });
  slack.setLatency(options.slackLatencyMs);
  // One more round than measured on each side: the first is a warm-up.
  const rounds = options.rounds + 1;
  for (let i = 0; i < rounds; i++) {
    kube.seedHelmRelease(release(`prod${i}`));
    kube.seedHelmRelease(release(`hand${i}`));
  }
  const dir = tempDir('helm');
  const kubeconfig = kube.writeKubeconfig(dir);
  const targets: string[] = [];
  for (let i = 0; i < rounds; i++)
    targets.push(`  api${i}:`, '    kind: helm', '    release: app', `    namespace: prod${i}`, '    timeout: 120s');
  const config = writeRollbackYml(dir, targets);
  const result: HelmResult = { botRolledOut: [], botVerified: [], byHand: [], byHandHelm: [] };
  let bot: BotProcess | undefined;
  try {
    bot = await startBot({
      mode: 'all',
      cwd: dir,
      config,
      prefix: options.prefix,
      slack,
      env: { KUBECONFIG: kubeconfig, HELM_BIN: helm },
    });
    const url = bot.eventsUrl as string;
    for (let i = 0; i < rounds; i++) {
      checkDeadline();
      const measured = i > 0;
      // The bot.
      const target = `api${i}`;
      const seen = new Set(postedRequests(slack).map((r) => r.id));
      const asked = await command(slack, url, `${target} bench`);
      if (asked.status !== 200) throw new Error(`/rollback ${target} answered HTTP ${asked.status}`);
      const request = await until(
        `the approval request for ${target}`,
        () => postedRequests(slack).find((r) => !seen.has(r.id) && r.target === target),
        30_000,
        10,
      );
      await awaitOrigin(options.prefix, request.id);
      const callsBefore = slack.calls.length;
      const clickedAt = Date.now();
      await approve(slack, url, request);
      const final = await until(
        `the final message for ${target}`,
        () => finalCall(slack, target, callsBefore),
        150_000,
        10,
      );
      if (!String(final.args.text).includes('is back on'))
        throw new Error(`helm rollback of ${target} did not succeed: ${String(final.args.text)}`);
      const rolledOut = slack.calls
        .slice(callsBefore)
        .find(
          (c: SimCall) =>
            c.method === 'chat.postMessage' &&
            c.ok &&
            typeof c.args.text === 'string' &&
            /successfully rolled out/.test(c.args.text),
        );
      if (measured) {
        result.botVerified.push(final.at - clickedAt);
        result.botRolledOut.push((rolledOut?.at ?? final.at) - clickedAt);
      }

      // By hand, on the same simulator, same pod delay.
      const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
      const started = performance.now();
      await run(helm, ['rollback', 'app', '1', '--namespace', `hand${i}`, '--wait', '--timeout', '300s'], {
        env,
        timeout: 150_000,
      });
      const helmDone = performance.now();
      await run(kubectl, ['rollout', 'status', 'deployment/app', '--namespace', `hand${i}`, '--timeout=5m'], {
        env,
        timeout: 150_000,
      });
      if (measured) {
        result.byHand.push(performance.now() - started);
        result.byHandHelm.push(helmDone - started);
      }
    }
  } finally {
    await bot?.stop();
    await Promise.all([slack.close(), kube.close()]);
  }
  return result;
}
