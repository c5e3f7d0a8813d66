/**
 * `npm run bench`: the figures of issue 5 ("Benchmarks"), measured in one run, side by side, on the
 * Slack, Fastly and Kubernetes simulators with a per-call latency, against the real bot process
 * (`node dist/main.js`: build first) and the tools people use by hand (the official `fastly` CLI, the
 * real `helm` and `kubectl`). Prints one markdown table, then where the time goes.
 *
 *   npm run build && npm run bench                 # full run (docs/benchmarks.md), ~3–4 minutes on 2 cores
 *   npm run build && npm run bench -- --short      # CI: fewer rounds and targets, well under 2 minutes
 *
 * Options: --latency <ms> (default 100: added by the Slack and the Fastly simulator to every call)
 *          --short  --rounds <n>  --bursts <n>  --targets <n> (fan-out)  --ready-delay <ms> (Helm pods)
 *          --only ack,fastly,helm,fanout,group,memory  --budget <s>  --json <file>  --strict (exit 1 on a ❌)
 *          --main <dist/main.js of another build>  --cpu-prof <dir> (a V8 profile per bot process)
 *          --quiet-wait <s> (wait up to s seconds for the 1-minute load average to fall below 0.5)
 *
 * Only 127.0.0.1 is used. Redis keys go under a prefix unique to the run and are deleted at the end.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_WORKER_CONCURRENCY as WORKER_CONCURRENCY_DEFAULT } from '../../src/config/env.js';
import { senderFloor } from './calibrate.js';
import {
  BenchDeadline,
  benchRedis,
  closeRedis,
  closeSender,
  deleteKeys,
  mainJsPath,
  median,
  ms,
  p50p99,
  percentile,
  type Row,
  setDeadline,
  setMainJs,
  setProfileDir,
  stopAllBots,
} from './common.js';
import { type FanoutResult, fanout } from './fanout.js';
import { type FastlyFlowResult, fastlyFlow, medianTiming, type RoundTiming } from './fastly-flow.js';
import { type GroupResult, group } from './group.js';
import { type HelmResult, helmFigures } from './helm.js';
import { idleMemory, type MemoryResult, mib } from './memory.js';

const { values } = parseArgs({
  options: {
    latency: { type: 'string', default: '100' },
    short: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    bursts: { type: 'string' },
    targets: { type: 'string' },
    'ready-delay': { type: 'string', default: '1000' },
    only: { type: 'string' },
    budget: { type: 'string' },
    json: { type: 'string' },
    strict: { type: 'boolean', default: false },
    main: { type: 'string' },
    'quiet-wait': { type: 'string', default: '0' },
    'cpu-prof': { type: 'string' },
  },
  strict: true,
});

const short = values.short ?? false;
const int = (value: string | undefined, fallback: number, name: string) => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${value}`);
  return n;
};
const settings = {
  latencyMs: int(values.latency, 100, 'latency'),
  rounds: int(values.rounds, short ? 5 : 20, 'rounds'),
  bursts: int(values.bursts, short ? 1 : 5, 'bursts'),
  burstSize: 50,
  cliRounds: short ? 3 : 10,
  helmRounds: short ? 2 : 5,
  readyDelayMs: int(values['ready-delay'], 1000, 'ready-delay'),
  targets: int(values.targets, short ? 20 : 100, 'targets'),
  /** Row 5b: slash commands, and as many clicks on other requests, sent during a second fan-out. */
  others: short ? 5 : 20,
  settleMs: short ? 3_000 : 10_000,
  budgetMs: int(values.budget, short ? 110 : 900, 'budget') * 1000,
};
const ALL = ['memory', 'ack', 'fastly', 'helm', 'fanout', 'group'] as const;
const only = new Set((values.only ?? ALL.join(',')).split(',').map((s) => s.trim()));
for (const name of only)
  if (!(ALL as readonly string[]).includes(name))
    throw new Error(`--only: unknown section "${name}" (${ALL.join(', ')})`);
if (values.main) setMainJs(values.main);
setProfileDir(values['cpu-prof']);

const runPrefix = `rr-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
let began = Date.now();
setDeadline(began + settings.budgetMs);

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await stopAllBots();
    closeSender();
    const deleted = await deleteKeys(runPrefix).catch(() => -1);
    const left = await deleteKeys(runPrefix).catch(() => -1);
    console.error(
      `bench: deleted ${deleted} Redis keys under ${runPrefix}*${left > 0 ? `, ${left} more on a second pass` : ''}`,
    );
    await closeRedis();
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping the bot processes and deleting the run's Redis keys`);
    void cleanUp().finally(() => process.exit(130));
  });
}
/** A hard stop a little after the budget, whatever is stuck. */
function armHardStop(): void {
  setTimeout(() => {
    console.error('bench: over budget; stopping');
    void cleanUp().finally(() => process.exit(3));
  }, settings.budgetMs + 30_000).unref();
}

function machine(): string {
  const cpus = os.cpus();
  const redisVersion = (info: string) => /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, Redis ${redisVersion(redisInfo)}`;
}
function revision(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    return `${commit}${dirty ? " (this working tree's src/ has uncommitted changes)" : ''}`;
  } catch {
    return 'unknown';
  }
}
let redisInfo = '';

const ok = (flag: boolean | undefined) => (flag === undefined ? '—' : flag ? '✅' : '❌');

function table(rows: Row[]): string {
  const lines = ['| # | figure | latency per call | measured | against | aim | |', '|---|---|---|---|---|---|---|'];
  for (const r of rows)
    lines.push(`| ${r.id} | ${r.figure} | ${r.latency} | ${r.measured} | ${r.against} | ${r.aim} | ${ok(r.ok)} |`);
  return lines.join('\n');
}

const STEPS: Array<[keyof RoundTiming, string]> = [
  ['clickAckMs', 'the click answered (HTTP 200 to Slack)'],
  ['approved', 'approval written (request hash `approvedAt`)'],
  ['noticePosted', '"Rolling back" notice accepted by Slack'],
  ['enqueued', 'job added to BullMQ (job `timestamp`)'],
  ['pickedUp', 'a worker took it (job `processedOn`)'],
  ['running', 'request marked running (`startedAt`)'],
  ['firstCall', 'first Fastly request arrives (stale-plan read)'],
  ['activationAnswered', 'activation answered'],
  ['readBackSent', 'read-back request arrives'],
  ['verified', 'final "back on" message accepted by Slack'],
];

function breakdown(a: RoundTiming[], b: RoundTiming[], latency: number): string {
  const ma = medianTiming(a);
  const mb = medianTiming(b);
  const lines = [
    `| ms after the Approve click (median of rounds) | Slack ${latency} ms, Fastly ${latency} ms | Slack 0 ms, Fastly ${latency} ms |`,
    '|---|---|---|',
  ];
  for (const [key, label] of STEPS) lines.push(`| ${label} | ${Math.round(ma[key])} | ${Math.round(mb[key])} |`);
  lines.push(
    `| Slack calls answered before the first Fastly request | ${ma.slackCallsBeforeFirstCall} | ${mb.slackCallsBeforeFirstCall} |`,
  );
  lines.push(
    `| Slack calls answered before the final message (included) | ${ma.slackCallsBeforeVerified} | ${mb.slackCallsBeforeVerified} |`,
  );
  lines.push(`| auth.test calls per rollback (click → end) | ${ma.authTests} | ${mb.authTests} |`);
  lines.push(`| Fastly requests per rollback | ${ma.fastlyCalls} | ${mb.fastlyCalls} |`);
  return lines.join('\n');
}

/** Where the time went in one group rollback (rows 5c, 5d). */
function groupNote(g: GroupResult): string {
  const span = ([a, b]: [number, number]) => `${ms(a)}–${ms(b)}`;
  return `\`/rollback fleet\` → plan of ${g.targets} posted ${ms(g.plannedMs)}; after the click: notice ${ms(g.noticeMs)}, jobs added ${span(g.jobsAddedMs)}, picked up ${span(g.pickedUpMs)} (at most ${g.maxConcurrent} at once; a member held its worker slot p50 ${ms(median(g.slotHeldMs))}, of which pick-up → "back on" p50 ${ms(median(g.runToVerifiedMs))}), first Fastly request ${ms(g.firstFastlyMs)}, last activation ${ms(g.allActivatedMs)}, each member's "back on" ${p50p99(g.perTarget)}, last ${ms(g.allVerifiedMs)}, summary ${ms(g.summaryMs)} ("${g.summary}"); ${g.threadPosts} messages in the thread.${g.failures.length ? ` Failures: ${g.failures.join('; ')}` : ''}`;
}

async function main(): Promise<number> {
  if (!existsSync(mainJsPath())) {
    console.error(`bench: ${mainJsPath()} does not exist: run \`npm run build\` first.`);
    return 2;
  }
  try {
    redisInfo = await benchRedis().info('server');
  } catch (error) {
    console.error(`bench: Redis does not answer (${String(error)}); start redis-server or set BENCH_REDIS_URL.`);
    return 2;
  }
  // Other work on the machine skews every figure: optionally wait (bounded) for it to calm down.
  const quietUntil = Date.now() + int(values['quiet-wait'], 0, 'quiet-wait') * 1000;
  while ((os.loadavg()[0] ?? 0) > 0.5 && Date.now() < quietUntil)
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  began = Date.now();
  setDeadline(began + settings.budgetMs);
  armHardStop();
  const L = settings.latencyMs;
  console.log(`rapid-rollback bench${short ? ' --short' : ''}: ${new Date().toISOString()}, commit ${revision()}`);
  console.log(`machine: ${machine()}`);
  console.log(
    `bot: ${mainJsPath()}; Redis prefix ${runPrefix}; simulator latency ${L} ms per call unless a row says otherwise`,
  );
  const loadAtStart = os.loadavg()[0] ?? 0;
  console.log(
    `load average at start: ${loadAtStart.toFixed(2)}${loadAtStart > 0.5 ? ' — other processes are busy on this machine: the figures will be noisier and slower than on a quiet one' : ''}\n`,
  );

  const rows: Row[] = [];
  const notes: string[] = [];
  const raw: Record<string, unknown> = { settings, runPrefix };

  let memory: MemoryResult | undefined;
  if (only.has('memory')) {
    console.error('bench: 6. idle memory…');
    memory = await idleMemory({ settleMs: settings.settleMs, prefix: `${runPrefix}-mem` });
    raw.memory = memory;
  }

  let flow: FastlyFlowResult | undefined;
  let floor: number[] = [];
  if (only.has('ack') || only.has('fastly')) {
    console.error('bench: 0. sender floor (calibration)…');
    floor = await senderFloor(settings.bursts, settings.burstSize);
    console.error('bench: 1–3. ack bursts, approve → first call, approve → verified, fastly CLI…');
    flow = await fastlyFlow({
      latencyMs: L,
      rounds: only.has('fastly') ? settings.rounds : 0,
      bursts: only.has('ack') ? settings.bursts : 0,
      burstSize: settings.burstSize,
      cliRounds: only.has('fastly') ? settings.cliRounds : 0,
      prefix: `${runPrefix}-flow`,
    });
    raw.flow = flow;
    raw.senderFloor = floor;
  }

  let helm: HelmResult | undefined;
  if (only.has('helm')) {
    console.error('bench: 4. Helm through the bot and by hand…');
    helm = await helmFigures({
      slackLatencyMs: L,
      readyDelayMs: settings.readyDelayMs,
      rounds: settings.helmRounds,
      prefix: `${runPrefix}-helm`,
    });
    raw.helm = helm;
  }

  let fan: FanoutResult | undefined;
  let busy: FanoutResult | undefined;
  if (only.has('fanout')) {
    console.error(`bench: 5. fan-out of ${settings.targets} targets…`);
    fan = await fanout({ targets: settings.targets, latencyMs: L, prefix: `${runPrefix}-fan` });
    raw.fanout = fan;
    console.error(
      `bench: 5b. the fan-out again, ${settings.others} commands and ${settings.others} clicks of other people during it…`,
    );
    busy = await fanout({
      targets: settings.targets,
      latencyMs: L,
      prefix: `${runPrefix}-busy`,
      others: settings.others,
    });
    raw.fanoutBusy = busy;
  }

  let grouped: GroupResult | undefined;
  let groupedBusy: GroupResult | undefined;
  if (only.has('group')) {
    console.error(`bench: 5c. one approval for a group of ${settings.targets} targets…`);
    grouped = await group({ targets: settings.targets, latencyMs: L, prefix: `${runPrefix}-grp` });
    raw.group = grouped;
    console.error(
      `bench: 5d. the group again, ${settings.others} commands and ${settings.others} clicks of other people during it…`,
    );
    groupedBusy = await group({
      targets: settings.targets,
      latencyMs: L,
      prefix: `${runPrefix}-grpbusy`,
      others: settings.others,
    });
    raw.groupBusy = groupedBusy;
  }

  // ------------------------------------------------------------------------------------------ rows
  const both = `Slack ${L} ms, Fastly ${L} ms`;
  if (flow && only.has('ack')) {
    const p99 = percentile(flow.acks, 99);
    const refused = flow.ackStatuses.filter((s) => s !== 200).length;
    rows.push({
      id: '1',
      figure: `Slash command → ack, ${settings.burstSize} concurrent \`/rollback\` (×${settings.bursts} bursts)`,
      latency: both,
      measured: p50p99(flow.acks),
      against: `Slack's limit 3 000 ms; sender alone (no bot): ${p50p99(floor)}`,
      aim: 'p99 ≤ 50 ms',
      ok: p99 <= 50 && refused === 0,
    });
    notes.push(
      `Row 1: first burst after start-up (cold, not in the figure): ${p50p99(flow.coldAcks)}; non-200 answers: ${refused}.`,
    );
  }
  if (flow && only.has('fastly') && flow.rounds.length > 0) {
    const first = flow.rounds.map((r) => r.firstCall);
    rows.push({
      id: '2',
      figure: 'Approve click → first Fastly call',
      latency: both,
      measured: p50p99(first),
      against: '',
      aim: 'p99 ≤ 100 ms',
      ok: percentile(first, 99) <= 100,
    });
    const ideal = 3 * L;
    const verified = flow.rounds.map((r) => r.verified);
    const verified0 = flow.roundsSlack0.map((r) => r.verified);
    const cli = flow.cli.wallMs;
    rows.push({
      id: '3a',
      figure: 'Fastly: Approve click → verified ("back on" posted)',
      latency: both,
      measured: p50p99(verified),
      // "Verified" reaches people through Slack: the final post is an unavoidable round trip of its own. Notify
      // first, and the read that decides comes after any wait: the notice, then 3 Fastly calls, then the post
      // (one Slack round trip fewer when the notice is out before the first read returns).
      against: `unavoidable in order: the notice, the deciding read, the activation, the read-back, the final post = ${ideal + 2 * L} ms → p50 ${(median(verified) / (ideal + 2 * L)).toFixed(2)}× (${ideal + L} ms when the notice beats the first read: ${(median(verified) / (ideal + L)).toFixed(2)}×)`,
      aim: `p50 ≤ 1.25 × ${ideal + 2 * L} = ${Math.round(1.25 * (ideal + 2 * L))} ms`,
      ok: median(verified) <= 1.25 * (ideal + 2 * L),
    });
    rows.push({
      id: '3b',
      figure: 'Fastly: the same, Slack answering at once',
      latency: `Slack 0 ms, Fastly ${L} ms`,
      measured: p50p99(verified0),
      against: `3 × ${L} = ${ideal} ms → p50 ${(median(verified0) / ideal).toFixed(2)}×`,
      aim: `p50 ≤ ${Math.round(1.25 * ideal)} ms`,
      ok: median(verified0) <= 1.25 * ideal,
    });
    if (cli.length > 0) {
      rows.push({
        id: '3c',
        figure: 'Fastly by hand: official `fastly` CLI, version list + activate + version list',
        latency: `Fastly ${L} ms`,
        measured: p50p99(cli),
        against: `bot (3a) p50 ${ms(median(verified))}: ${(median(cli) / median(verified)).toFixed(1)}× faster than the CLI`,
        aim: 'bot faster than by hand',
        ok: median(verified) < median(cli),
      });
      notes.push(
        `Row 3c: the CLI made ${flow.cli.requests.length} Fastly requests per rollback (${flow.cli.requests.join(', ')}); per command p50: list ${ms(median(flow.cli.commandMs.map((c) => c[0] ?? 0)))}, activate ${ms(median(flow.cli.commandMs.map((c) => c[1] ?? 0)))}, list ${ms(median(flow.cli.commandMs.map((c) => c[2] ?? 0)))}; update-check attempts refused by the local proxy: ${flow.cli.proxyAttempts}.`,
      );
    }
  }
  if (helm) {
    const ratio = median(helm.botRolledOut) / median(helm.byHand);
    rows.push({
      id: '4',
      figure: 'Helm: Approve click → rollout complete ("successfully rolled out" posted)',
      latency: `Slack ${L} ms, Kubernetes API 0 ms, pods Ready ${settings.readyDelayMs} ms after creation`,
      measured: `${p50p99(helm.botRolledOut)}; → verified p50 ${ms(median(helm.botVerified))}`,
      against: `by hand (helm rollback --wait + kubectl rollout status): ${p50p99(helm.byHand)} → ${ratio.toFixed(2)}×`,
      aim: 'p50 ≤ 1.25 × by hand',
      ok: ratio <= 1.25,
    });
    notes.push(
      `Row 4: by hand, \`helm rollback --wait\` alone took p50 ${ms(median(helm.byHandHelm))}; \`kubectl rollout status\` after it p50 ${ms(median(helm.byHand) - median(helm.byHandHelm))}.`,
    );
  }
  if (fan) {
    const slots = 2 * WORKER_CONCURRENCY_DEFAULT;
    const waves = Math.ceil(fan.targets / slots);
    rows.push({
      id: '5',
      figure: `Fan-out: ${fan.targets} Fastly targets, app + 2 worker processes`,
      latency: both,
      measured: `first click → all ${fan.targets} verified ${ms(fan.allVerifiedMs)}; each: ${p50p99(fan.perTarget)}`,
      against: `${waves} wave${waves === 1 ? '' : 's'} of ${slots} jobs (2 workers × WORKER_CONCURRENCY ${WORKER_CONCURRENCY_DEFAULT}) × 3 × ${L} ms = ${waves * 3 * L} ms of Fastly time at best`,
      aim: "every rollback within the runbook's 60 s",
      ok: fan.failures.length === 0 && fan.allVerifiedMs <= 60_000,
    });
    notes.push(
      `Row 5: at most ${fan.maxConcurrent} rollbacks ran at once; a job held its worker slot p50 ${ms(median(fan.slotHeldMs))} (pick-up → finished, the thread flushed), of which pick-up → "back on" posted p50 ${ms(median(fan.runToVerifiedMs))}; the ${fan.targets} clicks were answered ${p50p99(fan.clickAcks)}, slowest ${ms(Math.max(...fan.clickAcks))} (Slack's limit 3 000 ms).${fan.failures.length ? ` Failures: ${fan.failures.join('; ')}` : ''}`,
    );
  }
  if (busy) {
    const acks = [...busy.othersCommandAcks, ...busy.othersClickAcks];
    rows.push({
      id: '5b',
      figure: `Click answers during the fan-out: ${settings.others} \`/rollback\` + ${settings.others} Approve/Cancel clicks of other requests, one every 40 ms from 200 ms after ${busy.targets} Approve clicks arrive at once (row 5), while those run`,
      latency: both,
      measured: `${p50p99(acks)}; commands ${p50p99(busy.othersCommandAcks)}, clicks ${p50p99(busy.othersClickAcks)}`,
      against: "Slack's limit 3 000 ms",
      aim: 'p99 ≤ 100 ms',
      ok: percentile(acks, 99) <= 100,
    });
    notes.push(
      `Row 5b: sent from 200 ms after the first Approve click to ${ms(busy.othersLastSentMs)} after it; the fan-out beside them: first click → all ${busy.targets} verified ${ms(busy.allVerifiedMs)}, its ${busy.targets} clicks answered ${p50p99(busy.clickAcks)}.${busy.failures.length ? ` Failures: ${busy.failures.join('; ')}` : ''}`,
    );
  }
  if (grouped) {
    rows.push({
      id: '5c',
      figure: `One approval for a group of ${grouped.targets} Fastly targets, app + 2 worker processes`,
      latency: both,
      measured: `click → all ${grouped.targets} verified ${ms(grouped.allVerifiedMs)} (summary posted ${ms(grouped.summaryMs)}); the click answered in ${ms(grouped.clickAckMs)}`,
      against: `each member: notice, deciding read, activation, read-back, final post = ${5 * L} ms`,
      aim: 'all verified ≤ 2 000 ms',
      ok: grouped.failures.length === 0 && grouped.allVerifiedMs <= 2_000,
    });
    notes.push(`Row 5c: ${groupNote(grouped)}`);
  }
  if (groupedBusy) {
    const acks = [...groupedBusy.othersCommandAcks, ...groupedBusy.othersClickAcks];
    rows.push({
      id: '5d',
      figure: `Click answers during the group's fan-out: ${settings.others} \`/rollback\` + ${settings.others} Approve/Cancel clicks of other requests, one every 40 ms from 200 ms after the group's Approve click (row 5c), while its ${groupedBusy.targets} run`,
      latency: both,
      measured: `${p50p99(acks)}; commands ${p50p99(groupedBusy.othersCommandAcks)}, clicks ${p50p99(groupedBusy.othersClickAcks)}`,
      against: "Slack's limit 3 000 ms",
      aim: 'p99 ≤ 100 ms',
      ok: percentile(acks, 99) <= 100,
    });
    notes.push(
      `Row 5d: sent from 200 ms after the click to ${ms(groupedBusy.othersLastSentMs)} after it; the group beside them: ${groupNote(groupedBusy)}`,
    );
  }
  if (memory) {
    rows.push({
      id: '6',
      figure: 'Idle RSS, app + worker in one process (`node dist/main.js`)',
      latency: 'idle',
      measured: `${mib(memory.idleRss)} (VmRSS after ${memory.settleMs / 1000} s; peak ${mib(memory.peakRss)})`,
      against: '',
      aim: '≤ 128 MiB',
      ok: memory.idleRss <= 128 * 2 ** 20,
    });
  }

  console.log(table(rows));
  if (flow && flow.rounds.length > 0) {
    console.log(`\nWhere the time goes, one Fastly rollback (${flow.rounds.length} rounds each):\n`);
    console.log(breakdown(flow.rounds, flow.roundsSlack0, L));
  }
  if (notes.length > 0) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
  console.log(
    `\nTook ${((Date.now() - began) / 1000).toFixed(0)} s; load average at the end ${(os.loadavg()[0] ?? 0).toFixed(2)} (1 min).`,
  );
  if (values.json) writeFileSync(values.json, JSON.stringify({ rows, ...raw }, null, 2));
  return values.strict && rows.some((r) => r.ok === false) ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(error instanceof BenchDeadline ? `bench: ${error.message}` : error);
  code = 1;
} finally {
  await cleanUp();
}
process.exit(code);
