/**
 * Rows 1–3: the real bot (`node dist/main.js`, app + worker in one process) on the Slack and Fastly
 * simulators, both adding the same per-call latency, driven by signed slash commands and clicks.
 *
 *  1. ack latency of `/rollback` under bursts of concurrent commands (measured by the sender);
 *  2. Approve click → the Fastly simulator's first request after it (its `startedAt`);
 *  3. Approve click → the final "back on" message accepted by Slack (the simulator's call log), against
 *     3 × latency and against the official `fastly` CLI on the same simulator.
 *
 * Every round also reads the request hash and the BullMQ job hash in Redis, so the time between the
 * click and the first Fastly call can be split into approval, incident notice, enqueue and pick-up.
 */
import { FastlySimulator } from '../../test/support/fastly-simulator.js';
import { SlackSimulator } from '../../test/support/slack-simulator.js';
import {
  approve,
  awaitOrigin,
  type BotProcess,
  CHANNELS,
  checkDeadline,
  command,
  commandBody,
  fastlyTarget,
  finalCall,
  jobFacts,
  median,
  noticeCall,
  percentile,
  postedRequests,
  postSigned,
  requestFacts,
  startBot,
  tempDir,
  until,
  writeRollbackYml,
} from './common.js';
import { type CliResult, fastlyCliRounds } from './fastly-cli.js';

export const SERVICE = 'SU1Z0isxPaozGVKXdv0eY';

export interface FastlyFlowOptions {
  latencyMs: number;
  /** Measured rollbacks at the given Slack latency (and as many again with Slack at 0 ms). */
  rounds: number;
  /** Bursts of `burstSize` concurrent slash commands. */
  bursts: number;
  burstSize: number;
  cliRounds: number;
  prefix: string;
}

/** Milliseconds after the click at which each thing happened, for one rollback. */
export interface RoundTiming {
  clickAckMs: number;
  approved: number;
  noticePosted: number;
  enqueued: number;
  pickedUp: number;
  running: number;
  firstCall: number;
  activationAnswered: number;
  readBackSent: number;
  verified: number;
  fastlyCalls: number;
  /** Slack Web API calls answered between the click and the first Fastly call (each is a round trip). */
  slackCallsBeforeFirstCall: number;
  slackCallsBeforeVerified: number;
  /** auth.test calls during the round (Bolt asks before handling a request unless told who the bot is). */
  authTests: number;
}

export interface FastlyFlowResult {
  acks: number[];
  /** The first burst after start-up. */
  coldAcks: number[];
  ackStatuses: number[];
  rounds: RoundTiming[];
  roundsSlack0: RoundTiming[];
  cli: CliResult;
  latencyMs: number;
}

export async function fastlyFlow(options: FastlyFlowOptions): Promise<FastlyFlowResult> {
  const slack = await SlackSimulator.start();
  slack.addChannel({ id: CHANNELS.command, name: 'ops' });
  slack.addChannel({ id: CHANNELS.incident, name: 'incidents' });
  const fastly = await FastlySimulator.start({ latencyMs: options.latencyMs });
  fastly.addService({ id: SERVICE, name: 'www-prod', versions: 42, active: 42 });
  slack.setLatency(options.latencyMs);

  const dir = tempDir('fastly');
  const config = writeRollbackYml(dir, fastlyTarget('cdn', SERVICE));
  let bot: BotProcess | undefined;
  const result: FastlyFlowResult = {
    acks: [],
    coldAcks: [],
    ackStatuses: [],
    rounds: [],
    roundsSlack0: [],
    cli: { wallMs: [], commandMs: [], requests: [], proxyAttempts: 0 },
    latencyMs: options.latencyMs,
  };
  try {
    bot = await startBot({ mode: 'all', cwd: dir, config, prefix: options.prefix, slack, fastly });
    const url = bot.eventsUrl as string;
    let nextVersion = 43;
    const round = async (): Promise<RoundTiming> => {
      checkDeadline();
      const seen = new Set(postedRequests(slack).map((r) => r.id));
      const asked = await command(slack, url, 'cdn bench round');
      if (asked.status !== 200) throw new Error(`/rollback answered HTTP ${asked.status}`);
      const request = await until(
        'the approval request',
        () => postedRequests(slack).find((r) => !seen.has(r.id)),
        15_000,
      );
      await awaitOrigin(options.prefix, request.id);
      const callsBefore = slack.calls.length;
      const fastlyBefore = fastly.requests.length;
      const activationsBefore = fastly.activations.length;
      const clickedAt = Date.now();
      const click = await approve(slack, url, request);
      if (click.status !== 200) throw new Error(`the Approve click answered HTTP ${click.status}`);
      const final = await until('the final message in the thread', () => finalCall(slack, 'cdn', callsBefore), 30_000);
      if (!String(final.args.text).includes('is back on'))
        throw new Error(`rollback did not succeed: ${String(final.args.text)}`);
      // The job is done once its thread is flushed; rounds must not overlap.
      const job = await until(
        'the job to finish',
        async () => {
          const facts = await jobFacts(options.prefix, request.id);
          return facts.finishedOn > 0 ? facts : undefined;
        },
        30_000,
        10,
      );
      const facts = await requestFacts(options.prefix, request.id);
      const calls = fastly.requests.slice(fastlyBefore);
      const activation = fastly.activations[activationsBefore];
      const notice = noticeCall(slack, 'cdn', callsBefore);
      if (calls.length < 3 || !activation || !notice)
        throw new Error(
          `round incomplete: ${calls.length} Fastly calls, activation ${Boolean(activation)}, notice ${Boolean(notice)}`,
        );
      const since = (at: number) => at - clickedAt;
      const timing: RoundTiming = {
        clickAckMs: click.ms,
        approved: since(Number(facts.approvedAt)),
        noticePosted: since(notice.at),
        enqueued: since(job.addedAt),
        pickedUp: since(job.processedOn),
        running: since(Number(facts.startedAt)),
        firstCall: since(Date.parse(calls[0]!.startedAt)),
        activationAnswered: since(Date.parse(activation.at)),
        readBackSent: since(Date.parse(calls[2]!.startedAt)),
        verified: since(final.at),
        fastlyCalls: calls.length,
        slackCallsBeforeFirstCall: slack.calls.slice(callsBefore).filter((c) => c.at <= Date.parse(calls[0]!.startedAt))
          .length,
        slackCallsBeforeVerified: slack.calls.slice(callsBefore).filter((c) => c.at <= final.at).length,
        authTests: slack.calls.slice(callsBefore).filter((c) => c.method === 'auth.test').length,
      };
      // Someone fixes forward: a new version goes live, so the next round has something to roll back.
      fastly.addVersion(SERVICE, { number: nextVersion, locked: true, comment: `fix ${nextVersion}` });
      fastly.activateOutOfBand(SERVICE, nextVersion++);
      return timing;
    };

    // One unmeasured rollback: the first use of each connection and code path is not what an incident sees.
    await round();

    // Burst -1 is the first burst the process ever sees (cold code paths): kept apart, not in the figure.
    for (let burst = options.bursts > 0 ? -1 : 0; burst < options.bursts; burst++) {
      checkDeadline();
      const before = postedRequests(slack).length;
      const bodies = Array.from({ length: options.burstSize }, (_, i) =>
        commandBody(slack, `cdn burst ${burst} command ${i}`),
      );
      const answers = await Promise.all(bodies.map((body) => postSigned(url, body)));
      if (burst < 0) result.coldAcks.push(...answers.map((a) => a.ms));
      else result.acks.push(...answers.map((a) => a.ms));
      result.ackStatuses.push(...answers.map((a) => a.status));
      // Let the planning after the acks finish before anything else is measured.
      await until(
        'every burst request to be posted',
        () => postedRequests(slack).length >= before + options.burstSize,
        60_000,
        20,
      );
    }

    for (let i = 0; i < options.rounds; i++) result.rounds.push(await round());
    slack.setLatency(0);
    for (let i = 0; i < options.rounds; i++) result.roundsSlack0.push(await round());
    slack.setLatency(options.latencyMs);
  } finally {
    await bot?.stop();
    await slack.close();
  }
  try {
    // Same simulator (its own service), same latency; the bot is stopped so it does not compete for CPU.
    if (options.cliRounds > 0) result.cli = await fastlyCliRounds(fastly, options.cliRounds);
  } finally {
    await fastly.close();
  }
  return result;
}

/** The median of each field, for the "where the time goes" table. */
export function medianTiming(rounds: RoundTiming[]): RoundTiming {
  const pick = (key: keyof RoundTiming) => median(rounds.map((r) => r[key]));
  return Object.fromEntries(
    (Object.keys(rounds[0] ?? {}) as Array<keyof RoundTiming>).map((k) => [k, pick(k)]),
  ) as unknown as RoundTiming;
}

export function p99Of(rounds: RoundTiming[], key: keyof RoundTiming): number {
  return percentile(
    rounds.map((r) => r[key]),
    99,
  );
}
