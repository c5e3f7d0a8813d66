import type { CliConfig } from '../config/load-config.js';
import { checkApproverFor } from '../core/approval.js';
import { type BatchPlan, type BatchState, batchRefusalWords } from '../core/batch-service.js';
import type { Notifier } from '../core/ports/notifier.js';
import type { RollbackRequest } from '../core/request.js';
import type { TimelineEvent } from '../core/timeline.js';
import type { Logger } from '../log.js';
import { noticeNotifier } from '../slack/notice-notifier.js';
import { buildCore, type Core } from '../wiring.js';
import { defaultRequester } from './arguments.js';
import { confirm } from './confirm.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { followRequest } from './follow-request.js';
import { outcomeLines, planLines, progressLine } from './format.js';
import { terminalText } from './render-text.js';
import { CLI_ORIGIN, inContext, type RollbackOptions, workerFor } from './rollback-command.js';
import { type CliContext, cliLogger, loadCliConfig, requireConfirmation } from './setup.js';
import { type CliApproverDirectory, lazySlack, type SlackAccess } from './slack-access.js';

/** What the names on the command line come to: the group's name or the targets joined, and every target once. */
export function namedTargets(
  names: readonly string[],
  config: Pick<CliConfig, 'groups'>,
): { name: string; targets: string[]; group: boolean } {
  const lowered = names.map((n) => n.toLowerCase());
  const targets = [
    ...new Set(lowered.flatMap((n) => (Object.hasOwn(config.groups, n) ? (config.groups[n] ?? []) : [n]))),
  ];
  const onlyGroup = lowered.length === 1 && lowered[0] !== undefined && Object.hasOwn(config.groups, lowered[0]);
  return { name: onlyGroup ? (lowered[0] ?? '') : targets.join(' + '), targets, group: onlyGroup };
}

/**
 * `rapid-rollback rollback cdn api --reason … --approved-by …` (or a group's name): the Slack flow for several
 * targets without Slack in the way. One request for all (refused as a whole when one cannot go), the approver
 * allowed on every target, one approval for all, one notice when Slack answers, and unless --no-wait every
 * target run here at once, each on its own queue, its steps printed with its name.
 */
export async function rollbackManyCommand(
  ctx: CliContext,
  names: readonly string[],
  options: Omit<RollbackOptions, 'to'>,
): Promise<ExitCode> {
  const { out } = ctx;
  const config = loadCliConfig(ctx);
  const { name, targets } = namedTargets(names, config);
  requireConfirmation(
    options.yes,
    'rolling back',
    `Read \`rapid-rollback plan <target>\` for each of ${targets.join(', ')}, then run the same command with --yes. Nothing was done.`,
  );
  const log = cliLogger(ctx.env);
  const { slackAccess, directory } = lazySlack(config.slack, log);
  const core = await buildCore(config, log, { directory });
  void slackAccess();
  try {
    const requester = options.requestedBy ?? defaultRequester(ctx.env);
    const planned = await core.service.batches.request({
      name,
      targets,
      reason: options.reason,
      requester,
      origin: CLI_ORIGIN,
    });
    if (!planned.ok) {
      for (const line of refusalLines(planned, options.reason)) out.line(line);
      out.document({
        ok: false,
        exitCode: EXIT.refused,
        name,
        targets: planned.targets,
        planned: planned.planned.map((r) => ({ target: r.target, plan: r.plan })),
        refused: planned.refused.map((r) => ({
          target: r.target ?? null,
          code: r.error.code,
          message: terminalText(r.error.userText()),
        })),
      });
      return EXIT.refused;
    }
    const state = await approveAll(ctx, core, planned, requester, directory, options);
    if (!state) return EXIT.refused;
    return await launchAndFollow(ctx, core, config, log, state, await slackAccess(), options.wait);
  } finally {
    await core.close();
  }
}

function refusalLines(refusal: Extract<BatchPlan, { ok: false }>, reason: string): string[] {
  const words = batchRefusalWords(refusal);
  const lines = [
    `❌ ${words.subject} ${words.why}`,
    ...refusal.planned.map((r) => `  ✅ ${r.target}: ${r.plan.from.label} → ${r.plan.to.label}`),
    ...refusal.refused.map((r) => `  🚫 ${r.target ? `${r.target}: ` : ''}${terminalText(r.error.userText())}`),
  ];
  if (words.askAgainWith)
    lines.push(
      `Ask again without them: rapid-rollback rollback ${words.askAgainWith.join(' ')} --reason ${JSON.stringify(reason)} …`,
    );
  return lines;
}

async function approveAll(
  ctx: CliContext,
  core: Core,
  planned: Extract<BatchPlan, { ok: true }>,
  requester: string,
  directory: CliApproverDirectory,
  options: Omit<RollbackOptions, 'to'>,
): Promise<BatchState | undefined> {
  const { out } = ctx;
  const { batch, requests } = planned;
  out.line(`⏪ Rollback of ${batch.name}: ${requests.length} targets, one approval (request ${batch.id})`);
  for (const request of requests) for (const line of planLines(request.plan)) out.line(`  ${line}`);
  out.line(`  Requested by ${requester}, to be approved by ${options.approvedBy} · Reason: ${options.reason}`);
  const withdraw = () =>
    core.service.batches.cancel(batch.id, requester).then(
      () => undefined,
      () => undefined,
    );
  try {
    await checkApproverFor(batch, options.approvedBy, core.service.batches.scopes(batch), directory);
  } catch (error) {
    await withdraw();
    throw inContext(error, `--approved-by ${options.approvedBy}`);
  }
  if (!options.yes) {
    if (out.json) for (const request of requests) for (const line of planLines(request.plan)) out.note(line);
    const versions = requests.map((r) => `${r.target} to ${r.plan.to.label}`).join(', ');
    const yes = await confirm(
      `Roll back ${versions} now, approved by ${options.approvedBy}? It cannot be undone from the same pipeline. [y/N] `,
    );
    if (!yes) {
      await withdraw();
      out.line(`Nothing was done; request ${batch.id} is cancelled.`);
      out.document({ ok: false, exitCode: EXIT.refused, batchId: batch.id, state: 'cancelled' });
      return undefined;
    }
  }
  try {
    return await core.service.batches.approve(batch.id, options.approvedBy);
  } catch (error) {
    await withdraw();
    throw error;
  }
}

async function launchAndFollow(
  ctx: CliContext,
  core: Core,
  config: CliConfig,
  log: Logger,
  state: BatchState,
  slack: SlackAccess,
  wait: boolean,
): Promise<ExitCode> {
  const { out } = ctx;
  const { batch, requests } = state;
  const channel = config.rules.incidentChannel;
  const notifier: Notifier = slack.reachable
    ? noticeNotifier(slack.client, channel, log)
    : { announce: async () => ({}), announceBatch: async () => ({}), notStarted: async () => undefined };
  const { thread, problem } = await core.service.batches.launch(state, notifier, { dedicated: wait });
  const versions = requests.map((r) => `${r.target} to ${r.plan.to.label}`).join(', ');
  if (thread)
    out.line(`📣 Posted "Rolling back ${batch.name}: ${versions}" in #${channel}; every step goes to its thread too.`);
  else
    out.line(
      `⚠️ No notice in #${channel} (${problem ? terminalText(problem.userText()) : slack.reachable ? 'Slack took no notice' : slack.problem}): tell the incident channel yourself; the record is kept in Redis.`,
    );
  const base = { batchId: batch.id, name: batch.name, slack: { reachable: slack.reachable, notice: thread ?? null } };
  if (!wait) {
    out.line(`⏳ Queued ${requests.length} rollbacks. Bot workers run them; follow them with rapid-rollback status.`);
    out.document({
      ok: true,
      exitCode: EXIT.ok,
      ...base,
      state: 'approved',
      waited: false,
      requests: requests.map(brief),
    });
    return EXIT.ok;
  }
  out.line(`⏳ Queued ${requests.length} rollbacks; running them here, all at once:`);
  // Each member on its own dedicated queue: one worker each, so they run side by side.
  const workers = await Promise.all(requests.map((request) => workerFor(request.id, config, core, log)));
  let followed: Array<{ request: RollbackRequest | undefined; timeline: TimelineEvent[] }>;
  try {
    followed = await Promise.all(
      requests.map((request) =>
        followRequest(core.store, request.id, {
          timeoutMs: Math.max(request.plan.budgetMs * 5, 5 * 60_000) + 60_000,
          onEvent: (event) => {
            const line = progressLine(event);
            if (line) out.line(`${request.target}: ${line}`);
          },
        }),
      ),
    );
  } finally {
    // Waits for the jobs this process runs: a rollback is never left half-done by the CLI exiting.
    await Promise.all(workers.map((w) => w.close()));
  }
  const finals = followed.map((f, i) => f.request ?? requests[i]).filter((r) => r !== undefined);
  followed.forEach((f, i) => {
    const request = f.request ?? requests[i];
    if (!request) return;
    const finished = [...f.timeline].reverse().find((e) => e.kind === 'finished');
    for (const line of outcomeLines(request, finished)) out.line(line);
  });
  const succeeded = finals.filter((r) => r.state === 'succeeded').length;
  out.line(
    `${succeeded === finals.length ? '✅' : '⚠️'} ${batch.name}: ${succeeded} of ${finals.length} back on their versions, verified.`,
  );
  const exitCode = succeeded === finals.length ? EXIT.ok : EXIT.refused;
  out.document({ ok: exitCode === EXIT.ok, exitCode, ...base, waited: true, succeeded, requests: finals.map(brief) });
  return exitCode;
}

function brief(request: RollbackRequest) {
  return {
    requestId: request.id,
    target: request.target,
    from: request.plan.from.label,
    to: request.plan.to.label,
    state: request.state,
    outcome: request.outcome,
  };
}
