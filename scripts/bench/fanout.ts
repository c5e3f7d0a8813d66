/**
 * Row 5: fan-out. N Fastly services in one simulator, N targets in rollback.yml, the bot as production
 * splits it: `node dist/main.js app` plus two `node dist/main.js worker` processes on one Redis.
 * N signed slash commands ask for N rollbacks; once every approval request is posted, N signed Approve
 * clicks (by the approver) go out at once. Measured: first click → the last target's final "back on"
 * message accepted by Slack, and each target's click → verified.
 *
 * With `others` > 0 (row 5b), people elsewhere keep using the bot while the N run: `others` slash commands
 * for other targets and `others` clicks on other pending requests (Approve and Cancel, alternating), sent one
 * every `othersEveryMs` from `othersAfterMs` after the first Approve click on (the N clicks arriving at once
 * are row 5's; these arrive while the N run), each timed from its send to its HTTP answer.
 */
import { FastlySimulator } from '../../test/support/fastly-simulator.js';
import { type SimCall, SlackSimulator } from '../../test/support/slack-simulator.js';
import {
  approveBody,
  awaitOrigin,
  type BotProcess,
  CHANNELS,
  checkDeadline,
  commandBody,
  fastlyTarget,
  jobFacts,
  type PostedRequest,
  pool,
  postedRequests,
  postSigned,
  startBot,
  tempDir,
  until,
  writeRollbackYml,
} from './common.js';
import { othersTraffic, otherTargets, sendMeanwhile, waitingTargets } from './meanwhile.js';

export interface FanoutOptions {
  targets: number;
  latencyMs: number;
  prefix: string;
  /** Commands, and as many clicks on other requests, sent while the N run (row 5b); 0: none (row 5). */
  others?: number;
  /** One of them every this many ms (default 40), the first this long after the first click (default 200). */
  othersEveryMs?: number;
  othersAfterMs?: number;
}

export interface FanoutResult {
  targets: number;
  /** First click → every target verified. */
  allVerifiedMs: number;
  /** Per target, its click → its final message. */
  perTarget: number[];
  /** Sending every click took this long (they go out together, answered as the app acks them). */
  clicksSentMs: number;
  /** Each click's HTTP answer time as the sender saw it (Slack gives up after 3 s). */
  clickAcks: number[];
  /** Most rollbacks running at the same moment (from BullMQ's processedOn/finishedOn). */
  maxConcurrent: number;
  /** Per job: BullMQ pick-up → finished (the slot is held until the thread is flushed). */
  slotHeldMs: number[];
  /** Per job: worker pick-up → its final message accepted by Slack. */
  runToVerifiedMs: number[];
  failures: string[];
  /** Row 5b: the HTTP answer times of the other people's slash commands and clicks sent during the fan-out. */
  othersCommandAcks: number[];
  othersClickAcks: number[];
  /** Row 5b: when the last of them was sent, ms after the first Approve click. */
  othersLastSentMs: number;
}

export const serviceId = (i: number) => `FAN${String(i).padStart(3, '0')}Z0isxPaozGVKXdv`.slice(0, 22);
export const targetName = (i: number) => `f${String(i).padStart(3, '0')}`;

export async function fanout(options: FanoutOptions): Promise<FanoutResult> {
  const n = options.targets;
  const slack = await SlackSimulator.start();
  slack.addChannel({ id: CHANNELS.command, name: 'ops' });
  slack.addChannel({ id: CHANNELS.incident, name: 'incidents' });
  slack.setLatency(options.latencyMs);
  const fastly = await FastlySimulator.start({ latencyMs: options.latencyMs });
  const targets: string[] = [];
  for (let i = 0; i < n; i++) {
    fastly.addService({ id: serviceId(i), name: `svc-${i}`, versions: 12, active: 12 });
    targets.push(...fastlyTarget(targetName(i), serviceId(i)));
  }
  // Row 5b: others targets have a request waiting before the clicks (clicked during the fan-out), others more
  // are asked for during it.
  const others = options.others ?? 0;
  targets.push(...otherTargets(fastly, others));
  const dir = tempDir('fanout');
  const config = writeRollbackYml(dir, targets);
  const bots: BotProcess[] = [];
  const result: FanoutResult = {
    targets: n,
    allVerifiedMs: Number.NaN,
    perTarget: [],
    clicksSentMs: Number.NaN,
    clickAcks: [],
    maxConcurrent: 0,
    slotHeldMs: [],
    runToVerifiedMs: [],
    failures: [],
    othersCommandAcks: [],
    othersClickAcks: [],
    othersLastSentMs: Number.NaN,
  };
  try {
    const start = (mode: 'app' | 'worker') =>
      startBot({ mode, cwd: dir, config, prefix: options.prefix, slack, fastly });
    bots.push(...(await Promise.all([start('app'), start('worker'), start('worker')])));
    const url = bots[0]?.eventsUrl as string;

    // N requests, 25 at a time (planning is not what is measured here).
    const names = Array.from({ length: n }, (_, i) => targetName(i));
    const waiting = waitingTargets(others);
    const asked = await pool([...names, ...waiting], 25, (name) =>
      postSigned(url, commandBody(slack, `${name} fan-out`)),
    );
    const refused = asked.filter((a) => a.status !== 200);
    if (refused.length > 0) throw new Error(`${refused.length} slash commands were not acknowledged`);
    const requests = await until(
      `${n + others} approval requests`,
      () => {
        const posted = postedRequests(slack);
        return posted.length >= n + others ? posted : undefined;
      },
      120_000,
      50,
    );
    const byTarget = new Map<string, PostedRequest>(requests.map((r) => [r.target, r]));
    for (const request of byTarget.values()) await awaitOrigin(options.prefix, request.id);
    checkDeadline();

    // N clicks at once, bodies signed before the clock starts.
    const bodies = names.map((name) => approveBody(slack, byTarget.get(name) as PostedRequest));
    // Row 5b: the other people's commands and clicks, alternating, bodies signed before the clock starts too.
    const extra = othersTraffic(slack, byTarget, others);
    const callsBefore = slack.calls.length;
    const firstClick = Date.now();
    const clickedAt: number[] = [];
    const meanwhile = sendMeanwhile(url, extra, firstClick, {
      everyMs: options.othersEveryMs,
      afterMs: options.othersAfterMs,
    });
    const answers = await Promise.all(
      bodies.map((body, i) => {
        clickedAt[i] = Date.now();
        return postSigned(url, body);
      }),
    );
    result.clicksSentMs = Date.now() - firstClick;
    const during = await meanwhile;
    result.othersCommandAcks = during.commandAcks;
    result.othersClickAcks = during.clickAcks;
    result.othersLastSentMs = during.lastSentMs;
    result.clickAcks = answers.map((a) => a.ms);
    if (answers.some((a) => a.status !== 200)) throw new Error('some Approve clicks were not acknowledged');

    // Every target's final message, in one pass over the call log each time (bounded).
    const finals = new Map<string, SimCall>();
    const fanned = new Set(names);
    let scanned = callsBefore;
    await until(
      `all ${n} rollbacks to finish`,
      () => {
        for (; scanned < slack.calls.length; scanned++) {
          const call = slack.calls[scanned] as SimCall;
          const text = typeof call.args.text === 'string' ? call.args.text : '';
          // The outcome may follow the verification in one message: any line counts.
          const target =
            /^(?:✅ \*(\S+) is back on |❌ \*Rollback of (\S+) failed\*|⚠️ \*Rollback of (\S+) stopped\*)/m.exec(text);
          const name = target?.[1] ?? target?.[2] ?? target?.[3];
          if (call.method === 'chat.postMessage' && call.ok && name && fanned.has(name) && !finals.has(name))
            finals.set(name, call);
        }
        return finals.size >= n;
      },
      300_000,
      20,
    );
    let last = 0;
    names.forEach((name, i) => {
      const call = finals.get(name) as SimCall;
      const text = String(call.args.text);
      if (!text.includes(`*${name} is back on`)) result.failures.push(`${name}: ${text.slice(0, 160)}`);
      result.perTarget.push(call.at - (clickedAt[i] ?? firstClick));
      last = Math.max(last, call.at);
    });
    result.allVerifiedMs = last - firstClick;

    // How busy the workers were: BullMQ's own timestamps (wait for every job to be flushed and finished).
    const jobs = await until(
      'every job to finish',
      async () => {
        const facts = await Promise.all(
          names.map((name) => jobFacts(options.prefix, (byTarget.get(name) as PostedRequest).id)),
        );
        return facts.every((f) => f.finishedOn > 0) ? facts : undefined;
      },
      120_000,
      100,
    );
    const edges = jobs
      .flatMap(
        (j) =>
          [
            [j.processedOn, 1],
            [j.finishedOn, -1],
          ] as const,
      )
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    for (const [, delta] of edges) result.maxConcurrent = Math.max(result.maxConcurrent, (running += delta));
    result.slotHeldMs = jobs.map((j) => j.finishedOn - j.processedOn);
    result.runToVerifiedMs = names.map(
      (name, i) => (finals.get(name) as SimCall).at - (jobs[i]?.processedOn ?? Number.NaN),
    );
  } finally {
    await Promise.all(bots.map((bot) => bot.stop()));
    await Promise.all([slack.close(), fastly.close()]);
  }
  return result;
}
