import { WebClient } from '@slack/web-api';
import type { CliConfig } from '../config/load-config.js';
import { checkApproverFor, scopesOf } from '../core/approval.js';
import { isRollbackError, RollbackError } from '../core/errors.js';
import type { Notifier } from '../core/ports/notifier.js';
import type { RollbackRequest } from '../core/request.js';
import { command, text } from '../core/text.js';
import type { Logger } from '../log.js';
import { createSlackClient } from '../slack/app.js';
import { noticeNotifier } from '../slack/notice-notifier.js';
import { buildCore, type Core, startWorker } from '../wiring.js';
import { defaultRequester } from './arguments.js';
import { confirm } from './confirm.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { followRequest } from './follow-request.js';
import { outcomeLines, planLines, progressLine } from './format.js';
import { terminalText } from './render-text.js';
import { type CliContext, cliLogger, loadCliConfig, requireConfirmation } from './setup.js';
import { type CliApproverDirectory, lazySlack, type SlackAccess } from './slack-access.js';

export interface RollbackOptions {
  reason: string;
  approvedBy: string;
  requestedBy?: string | undefined;
  to?: string | undefined;
  yes?: boolean | undefined;
  /** false with --no-wait: queue and return. */
  wait: boolean;
}

/** Where the CLI's requests say they came from (Slack's would be a channel). */
export const CLI_ORIGIN = { channel: 'cli' };

/**
 * The Slack flow without Slack in the way: request (the plan is pinned), the approver's check,
 * approval, the notice when Slack answers, the job on the same queue; then, unless --no-wait, a worker
 * in this process (BullMQ gives the job to exactly one worker) and the steps as the timeline records them.
 */
export async function rollbackCommand(ctx: CliContext, target: string, options: RollbackOptions): Promise<ExitCode> {
  requireConfirmation(
    options.yes,
    'rolling back',
    `Read \`rapid-rollback plan ${target}\`, then run the same command with --yes. Nothing was done.`,
  );
  const config = loadCliConfig(ctx);
  const log = cliLogger(ctx.env);
  // Slack is asked once start-up is done: loading the drivers can hold the event loop for seconds on a busy
  // machine, long enough for a probe started beside it to time out although Slack answered.
  const { slackAccess, directory } = lazySlack(config.slack, log);
  const core = await buildCore(config, log, { directory }).catch((error: unknown) => {
    if (!isRollbackError(error) || error.code !== 'QUEUE_UNAVAILABLE') throw error;
    throw new RollbackError(error.code, text`${error.text} Nothing was done.`, {
      hint: text`${error.hintText ? text`${error.hintText} ` : undefined}Meanwhile ${command({ action: 'plan', target })} works without Redis and names the version to restore by hand (the runbook).`,
      cause: error,
    });
  });
  void slackAccess();
  try {
    const approved = await requestAndApprove(ctx, core, config, directory, target, options);
    if (!approved) return EXIT.refused;
    return await queueAndFollow(ctx, core, config, log, approved, await slackAccess(), options.wait);
  } finally {
    await core.close();
  }
}

async function requestAndApprove(
  ctx: CliContext,
  core: Core,
  config: CliConfig,
  directory: CliApproverDirectory,
  target: string,
  options: RollbackOptions,
): Promise<RollbackRequest | undefined> {
  const { out } = ctx;
  const requester = options.requestedBy ?? defaultRequester(ctx.env);
  const request = await core.service.request({
    target,
    toVersion: options.to,
    reason: options.reason,
    requester,
    origin: CLI_ORIGIN,
  });
  const { plan } = request;
  out.line(`⏪ Rollback of ${target}: ${plan.from.label} → ${plan.to.label} (request ${request.id})`);
  for (const line of planLines(plan)) out.line(line);
  out.line(`  Requested by ${requester}, to be approved by ${options.approvedBy} · Reason: ${options.reason}`);

  // A request the CLI cannot go on with is closed, not left open for an approval that cannot come.
  // (A request already closed has nothing to withdraw.)
  const withdraw = () =>
    core.service.cancel(request.id, requester).then(
      () => undefined,
      () => undefined,
    );
  try {
    // Same check as approve() makes, before asking anyone to confirm a rollback that would be refused.
    await checkApproverFor(request, options.approvedBy, scopesOf(config.rules, config.targets, [target]), directory);
  } catch (error) {
    await withdraw();
    throw inContext(error, `--approved-by ${options.approvedBy}`);
  }
  if (!options.yes) {
    // In --json mode stdout is for the document: the plan to confirm goes with the question, on stderr.
    if (out.json) for (const line of planLines(plan)) out.note(line);
    const yes = await confirm(
      `Roll back ${target} from ${plan.from.label} to ${plan.to.label} now, approved by ${options.approvedBy}? It cannot be undone from the same pipeline. [y/N] `,
    );
    if (!yes) {
      await withdraw();
      out.line(`Nothing was done; request ${request.id} is cancelled.`);
      out.document({ ok: false, exitCode: EXIT.refused, requestId: request.id, state: 'cancelled', plan });
      return undefined;
    }
  }
  try {
    return await core.service.approve(request.id, options.approvedBy);
  } catch (error) {
    await withdraw();
    throw error;
  }
}

export async function queueAndFollow(
  ctx: CliContext,
  core: Core,
  config: CliConfig,
  log: Logger,
  request: RollbackRequest,
  slack: SlackAccess,
  wait: boolean,
): Promise<ExitCode> {
  const { out } = ctx;
  const channel = config.rules.incidentChannel;
  // The runbook's first step, as in Slack: the notice roots the progress thread; core queues the job beside it.
  const notifier: Notifier = slack.reachable
    ? noticeNotifier(slack.client, channel, log)
    : { announce: async () => ({}), announceBatch: async () => ({}), notStarted: async () => undefined };
  // Run here: on the request's own queue, which no bot worker (with perhaps another rollback.yml) takes.
  const { thread, problem } = await core.service.launch(request, notifier, { dedicated: wait });
  let slackProblem: string | undefined;
  if (thread) {
    out.line(
      `📣 Posted "Rolling back ${request.target} to ${request.plan.to.label}" in #${channel}; every step goes to its thread too.`,
    );
  } else if (slack.reachable) {
    slackProblem = problem ? terminalText(problem.userText()) : 'Slack took no notice';
    out.line(
      `⚠️ Could not post the notice in #${channel}: ${slackProblem} No thread: the steps are only here and in the record. Tell the incident channel yourself.`,
    );
  } else {
    slackProblem = slack.problem;
    const why = slack.unset
      ? 'Slack was not told'
      : /refused the bot token/.test(slack.problem)
        ? 'Slack cannot be used'
        : 'Slack was unreachable';
    out.line(
      `⚠️ ${why} (${slack.problem}): no notice in #${channel}, no thread. Tell the incident channel yourself when you can; the record is kept in Redis.`,
    );
  }
  const base = {
    requestId: request.id,
    target: request.target,
    plan: request.plan,
    requester: request.requester,
    approver: request.approver,
    reason: request.reason,
    slack: { reachable: slack.reachable, notice: thread ?? null, problem: slackProblem },
  };

  if (!wait) {
    out.line(
      `⏳ Queued ${request.id}. A bot worker runs it; if none is up it waits in the queue (run without --no-wait to run it here).`,
    );
    out.line(`   Follow it: rapid-rollback status · rapid-rollback record ${request.id}`);
    out.document({ ok: true, exitCode: EXIT.ok, ...base, state: 'approved', waited: false });
    return EXIT.ok;
  }

  out.line(`⏳ Queued ${request.id}; running it here:`);
  return runHereAndFollow(ctx, core, config, log, request, base);
}

/**
 * Runs the request's job in this process, from its dedicated queue, and prints each step as the record
 * gets it. The worker takes no other job: a waiting rollback of the bot is run only with `resume`.
 */
export async function runHereAndFollow(
  ctx: CliContext,
  core: Core,
  config: CliConfig,
  log: Logger,
  request: RollbackRequest,
  base: Record<string, unknown>,
): Promise<ExitCode> {
  const { out } = ctx;
  const worker = await workerFor(request.id, config, core, log);
  let runningHere = false;
  worker.worker.on('active', () => {
    runningHere = true;
  });

  const stopFollowing = new AbortController();
  let warned = false;
  const onInterrupt = () => {
    if (!runningHere) {
      out.note(
        `Stopped following before it started. The job waits for this command: \`rapid-rollback resume ${request.id}\` runs it.`,
      );
      stopFollowing.abort();
    } else if (!warned) {
      warned = true;
      out.note(
        `This process is running the rollback: quitting now stops it half-way (\`rapid-rollback resume ${request.id}\` re-checks the live state before it carries on). Press Ctrl-C again to quit anyway.`,
      );
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onInterrupt);
  let followed: Awaited<ReturnType<typeof followRequest>>;
  try {
    followed = await followRequest(core.store, request.id, {
      signal: stopFollowing.signal,
      timeoutMs: Math.max(request.plan.budgetMs * 5, 5 * 60_000) + 60_000,
      onEvent: (event) => {
        const line = progressLine(event);
        if (line) out.line(line);
      },
    });
  } catch (error) {
    throw new RollbackError(
      'QUEUE_UNAVAILABLE',
      `Lost Redis while following ${request.id}; the rollback itself may have gone on.`,
      {
        hint: `Before anything else, see what is live: \`rapid-rollback plan ${request.target}\` (works without Redis) or the provider's console.`,
        cause: error,
      },
    );
  } finally {
    // Waits for a job this process runs: a rollback is never left half-done by the CLI exiting.
    await worker.close();
    process.off('SIGINT', onInterrupt);
  }
  const final = followed.request ?? request;
  const finished = [...followed.timeline].reverse().find((e) => e.kind === 'finished');
  for (const line of outcomeLines(final, finished)) out.line(line);
  const exitCode = final.state === 'succeeded' ? EXIT.ok : EXIT.refused;
  out.document({
    ok: exitCode === EXIT.ok,
    exitCode,
    ...base,
    state: final.state,
    outcome: final.outcome,
    durationMs: finished?.durationMs,
    waited: true,
    timeline: followed.timeline,
  });
  return exitCode;
}

/** Says which part of the command a refusal is about, keeping its code and hint. */
export function inContext(error: unknown, context: string): unknown {
  if (!isRollbackError(error)) return error;
  return new RollbackError(error.code, text`${context}: ${error.text}`, {
    hint: error.hintText,
    cause: error,
    details: error.details,
  });
}

/** A worker in this process for one request's job only, from its dedicated queue (no bot worker takes it). */
export function workerFor(requestId: string, config: CliConfig, core: Core, log: Logger) {
  return startWorker(config, {
    store: core.store,
    batches: core.batches,
    freezes: core.freezes,
    drivers: core.drivers,
    // Without a token the CLI posts no notice, so its request has no thread for this client to write in.
    client: config.slack ? createSlackClient(config.slack, log) : new WebClient(),
    log,
    bullPrefix: core.bullPrefix,
    flushTimeoutMs: 10_000,
    symmetry: core.symmetry,
    lockMs: config.workerLockMs,
    onlyRequest: requestId,
  });
}
