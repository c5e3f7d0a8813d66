/**
 * Row 5c: one approval for a group. N Fastly services in one simulator, N targets in rollback.yml and a group
 * naming all of them; the bot split as row 5 runs it (`node dist/main.js app` plus two `node dist/main.js
 * worker` on one Redis). `/rollback fleet …` posts one plan message; one signed click on "Approve all N"
 * starts every member. Measured: the click's own answer, click → the last member's "back on" line accepted by
 * Slack (all N verified), click → Fastly's last activation, click → the thread's summary line.
 *
 * With `others` > 0 (row 5d), people elsewhere keep using the bot while the N run, as in row 5b.
 */
import { FastlySimulator } from '../../test/support/fastly-simulator.js';
import { blockAction } from '../../test/support/slack-payloads.js';
import { type SimCall, SlackSimulator, textOf } from '../../test/support/slack-simulator.js';
import {
  awaitOrigin,
  type BotProcess,
  benchRedis,
  CHANNELS,
  checkDeadline,
  commandBody,
  fastlyTarget,
  jobFacts,
  PEOPLE,
  type PostedRequest,
  pool,
  postedRequests,
  postSigned,
  startBot,
  tempDir,
  until,
  writeRollbackYml,
} from './common.js';
import { serviceId, targetName } from './fanout.js';
import { othersTraffic, otherTargets, sendMeanwhile, waitingTargets } from './meanwhile.js';

export interface GroupOptions {
  targets: number;
  latencyMs: number;
  prefix: string;
  /** Commands, and as many clicks on other requests, sent while the N run (row 5d); 0: none (row 5c). */
  others?: number;
}

export interface GroupResult {
  targets: number;
  /** `/rollback fleet` sent → the plan message of every target accepted by Slack. */
  plannedMs: number;
  /** The Approve click's HTTP answer, as the sender saw it. */
  clickAckMs: number;
  /** Click → the notice accepted by Slack. */
  noticeMs: number;
  /** Click → the first and the last job added to BullMQ (job `timestamp`). */
  jobsAddedMs: [number, number];
  /** Click → the first and the last job taken by a worker (job `processedOn`). */
  pickedUpMs: [number, number];
  /** Click → the first Fastly request, and → Fastly's last activation applied. */
  firstFastlyMs: number;
  allActivatedMs: number;
  /** Click → the last member's "back on" line accepted by Slack: all N verified. */
  allVerifiedMs: number;
  /** Per member, click → its "back on" line. */
  perTarget: number[];
  /** Click → the summary line ("fleet: N of N back on their versions, verified, …") accepted by Slack. */
  summaryMs: number;
  summary: string;
  /** Messages posted in the batch's thread (its summary included). */
  threadPosts: number;
  /** Most members running at the same moment (from BullMQ's processedOn/finishedOn). */
  maxConcurrent: number;
  /** Per member: BullMQ pick-up → finished (the slot is held until its thread lines are flushed). */
  slotHeldMs: number[];
  /** Per member: BullMQ pick-up → its "back on" line accepted by Slack. */
  runToVerifiedMs: number[];
  /** The click on the system's monotonic clock, in µs (V8's CPU profiles use it: --cpu-prof windows). */
  clickedAtMonotonicUs: number;
  /** Per member, ms after the click (for --json): pick-up, its Fastly requests, its thread posts, finished. */
  timelines: Array<{ target: string; pickedUp: number; fastly: string[]; slack: string[]; finished: number }>;
  failures: string[];
  othersCommandAcks: number[];
  othersClickAcks: number[];
  othersLastSentMs: number;
}

const GROUP = 'fleet';

interface PostedBatch {
  id: string;
  ts: string;
  /** When Slack accepted it. */
  at: number;
}

function postedBatch(slack: SlackSimulator): PostedBatch | undefined {
  for (const message of slack.messages(CHANNELS.command)) {
    if (message.threadTs) continue;
    const text = textOf(message);
    const id = /`(rbb-[a-z0-9-]+)`/.exec(text)?.[1];
    if (id && text.includes(`Rollback requested: ${GROUP} (`)) {
      const call = slack.calls.find(
        (c) =>
          c.method === 'chat.postMessage' &&
          c.ok &&
          typeof c.args.text === 'string' &&
          c.args.text.startsWith(`Rollback requested: ${GROUP} (`),
      );
      return { id, ts: message.ts, at: call?.at ?? Number.NaN };
    }
  }
  return undefined;
}

function batchApproveBody(slack: SlackSimulator, batch: PostedBatch): string {
  return blockAction({
    actionId: 'rollback_batch_approve',
    value: batch.id,
    userId: PEOPLE.approver,
    channelId: CHANNELS.command,
    messageTs: batch.ts,
    responseUrl: slack.newResponseUrl({ channel: CHANNELS.command, messageTs: batch.ts, userId: PEOPLE.approver }),
  });
}

/** The batch's member request ids, from its hash (src/store/redis-batch-store.ts). */
async function memberIds(prefix: string, id: string): Promise<string[]> {
  const data = await benchRedis().hget(`${prefix}:batch:${id}`, 'data');
  return (JSON.parse(data ?? '{}') as { members?: string[] }).members ?? [];
}

async function awaitBatchOrigin(prefix: string, id: string): Promise<void> {
  await until(
    `batch ${id} to record its message`,
    async () => Boolean(await benchRedis().hget(`${prefix}:batch:${id}`, 'originTs')),
    10_000,
    5,
  );
}

const BACK_ON = /^✅ \*(\S+) is back on |^❌ \*Rollback of (\S+) failed\*|^⚠️ \*Rollback of (\S+) stopped\*/gm;

export async function group(options: GroupOptions): Promise<GroupResult> {
  const n = options.targets;
  const slack = await SlackSimulator.start();
  slack.addChannel({ id: CHANNELS.command, name: 'ops' });
  slack.addChannel({ id: CHANNELS.incident, name: 'incidents' });
  slack.setLatency(options.latencyMs);
  const fastly = await FastlySimulator.start({ latencyMs: options.latencyMs });
  const names = Array.from({ length: n }, (_, i) => targetName(i));
  const targets: string[] = [];
  names.forEach((name, i) => {
    fastly.addService({ id: serviceId(i), name: `svc-${i}`, versions: 12, active: 12 });
    targets.push(...fastlyTarget(name, serviceId(i)));
  });
  const others = options.others ?? 0;
  targets.push(...otherTargets(fastly, others));
  const dir = tempDir('group');
  const config = writeRollbackYml(dir, targets, [`groups: { ${GROUP}: [${names.join(', ')}] }`]);
  const bots: BotProcess[] = [];
  const result: GroupResult = {
    targets: n,
    plannedMs: Number.NaN,
    clickAckMs: Number.NaN,
    noticeMs: Number.NaN,
    jobsAddedMs: [Number.NaN, Number.NaN],
    pickedUpMs: [Number.NaN, Number.NaN],
    firstFastlyMs: Number.NaN,
    allActivatedMs: Number.NaN,
    allVerifiedMs: Number.NaN,
    perTarget: [],
    summaryMs: Number.NaN,
    summary: '',
    threadPosts: 0,
    maxConcurrent: 0,
    slotHeldMs: [],
    runToVerifiedMs: [],
    clickedAtMonotonicUs: Number.NaN,
    timelines: [],
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

    // The other people's waiting requests first, then the group's (its planning is timed on its own).
    const waiting = waitingTargets(others);
    const asked = await pool(waiting, 25, (name) => postSigned(url, commandBody(slack, `${name} fan-out`)));
    const requested = await until(
      `${others} approval requests`,
      () => {
        const posted = postedRequests(slack);
        return posted.length >= others ? posted : undefined;
      },
      60_000,
      50,
    );
    const byTarget = new Map<string, PostedRequest>(requested.map((r) => [r.target, r]));
    for (const request of byTarget.values()) await awaitOrigin(options.prefix, request.id);
    const askedAt = Date.now();
    asked.push(await postSigned(url, commandBody(slack, `${GROUP} fan-out of a group`)));
    if (asked.some((a) => a.status !== 200)) throw new Error('some slash commands were not acknowledged');
    const batch = await until(`the plan of ${n} targets`, () => postedBatch(slack), 120_000, 20);
    result.plannedMs = batch.at - askedAt;
    await awaitBatchOrigin(options.prefix, batch.id);
    const members = await memberIds(options.prefix, batch.id);
    if (members.length !== n) throw new Error(`the batch has ${members.length} members, not ${n}`);
    checkDeadline();

    const body = batchApproveBody(slack, batch);
    const extra = othersTraffic(slack, byTarget, others);
    const callsBefore = slack.calls.length;
    const fastlyBefore = fastly.requests.length;
    const activationsBefore = fastly.activations.length;
    const clickedAt = Date.now();
    result.clickedAtMonotonicUs = Number(process.hrtime.bigint() / 1000n);
    const meanwhile = sendMeanwhile(url, extra, clickedAt);
    const answer = await postSigned(url, body);
    result.clickAckMs = answer.ms;
    if (answer.status !== 200) throw new Error(`the Approve click got ${answer.status}`);
    const during = await meanwhile;
    result.othersCommandAcks = during.commandAcks;
    result.othersClickAcks = during.clickAcks;
    result.othersLastSentMs = during.lastSentMs;

    // Every member's outcome line and the summary, in one pass over the call log each time (bounded).
    const finals = new Map<string, SimCall>();
    const fanned = new Set(names);
    let summary: SimCall | undefined;
    let notice: SimCall | undefined;
    let scanned = callsBefore;
    await until(
      `all ${n} members and the summary`,
      () => {
        for (; scanned < slack.calls.length; scanned++) {
          const call = slack.calls[scanned] as SimCall;
          if (call.method !== 'chat.postMessage' || !call.ok || typeof call.args.text !== 'string') continue;
          const text = call.args.text;
          if (!notice && call.args.thread_ts === undefined && text.startsWith(`Rolling back ${GROUP}: `)) notice = call;
          if (/back on their versions/.test(text) && text.includes(`${GROUP}: `)) summary = call;
          for (const match of text.matchAll(BACK_ON)) {
            const name = match[1] ?? match[2] ?? match[3];
            if (name && fanned.has(name) && !finals.has(name)) finals.set(name, call);
          }
        }
        return finals.size >= n && summary !== undefined;
      },
      300_000,
      20,
    );
    let last = 0;
    for (const name of names) {
      const call = finals.get(name) as SimCall;
      if (!String(call.args.text).includes(`*${name} is back on`)) result.failures.push(`${name}: not back on`);
      result.perTarget.push(call.at - clickedAt);
      last = Math.max(last, call.at);
    }
    result.allVerifiedMs = last - clickedAt;
    result.noticeMs = (notice?.at ?? Number.NaN) - clickedAt;
    result.summaryMs = (summary as SimCall).at - clickedAt;
    result.summary = String((summary as SimCall).args.text).split('\n')[0] ?? '';
    const root = slack
      .messages(CHANNELS.incident)
      .find((m) => !m.threadTs && textOf(m).startsWith(`Rolling back ${GROUP}: `));
    result.threadPosts = root ? slack.thread(CHANNELS.incident, root.ts).length : 0;
    const activations = fastly.activations.slice(activationsBefore).filter((a) => a.serviceId.startsWith('FAN'));
    if (activations.length !== n) result.failures.push(`${activations.length} of ${n} services activated`);
    result.allActivatedMs = Math.max(...activations.map((a) => Date.parse(a.at))) - clickedAt;
    const firstRequest = fastly.requests.slice(fastlyBefore).find((r) => r.path.includes('/FAN'));
    result.firstFastlyMs = Date.parse(firstRequest?.startedAt ?? '') - clickedAt;

    const jobs = await until(
      'every job to finish',
      async () => {
        const facts = await Promise.all(members.map((id) => jobFacts(options.prefix, id)));
        return facts.every((f) => f.finishedOn > 0) ? facts : undefined;
      },
      120_000,
      100,
    );
    const span = (values: number[]): [number, number] => [
      Math.min(...values) - clickedAt,
      Math.max(...values) - clickedAt,
    ];
    result.jobsAddedMs = span(jobs.map((j) => j.addedAt));
    result.pickedUpMs = span(jobs.map((j) => j.processedOn));
    const edges = jobs
      .flatMap((j) => [[j.processedOn, 1] as const, [j.finishedOn, -1] as const])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    for (const [, delta] of edges) result.maxConcurrent = Math.max(result.maxConcurrent, (running += delta));
    result.slotHeldMs = jobs.map((j) => j.finishedOn - j.processedOn);
    // Members are stored in the order of the group's targets.
    result.runToVerifiedMs = names.map(
      (name, i) => (finals.get(name) as SimCall).at - (jobs[i]?.processedOn ?? Number.NaN),
    );
    result.timelines = names.map((name, i) => ({
      target: name,
      pickedUp: (jobs[i]?.processedOn ?? Number.NaN) - clickedAt,
      fastly: fastly.requests
        .slice(fastlyBefore)
        .filter((r) => r.path.includes(serviceId(i)))
        .map((r) => `${Date.parse(r.startedAt) - clickedAt} ${r.method} ${r.path.split(serviceId(i))[1]}`),
      slack: slack.calls
        .slice(callsBefore)
        .filter((c) => typeof c.args.text === 'string' && c.args.text.includes(name))
        .map((c) => `${c.at - clickedAt} ${c.method} ${String(c.args.text).slice(0, 60)}`),
      finished: (jobs[i]?.finishedOn ?? Number.NaN) - clickedAt,
    }));
  } finally {
    await Promise.all(bots.map((bot) => bot.stop()));
    await Promise.all([slack.close(), fastly.close()]);
  }
  return result;
}
