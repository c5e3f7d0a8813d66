import { RollbackError } from '../core/errors.js';
import { REQUEST_ID } from '../core/request.js';
import { buildCore } from '../wiring.js';
import { confirm } from './confirm.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { planLines } from './format.js';
import { runHereAndFollow } from './rollback-command.js';
import { type CliContext, cliLogger, loadCliConfig, requireConfirmation } from './setup.js';
import { lazySlack } from './slack-access.js';

/** What `resume` says when the job is not there to run, by where BullMQ has it. */
const NOT_RUNNABLE = {
  active: 'a worker is running it right now',
  ended: 'its job has already ended',
  missing: 'it has no job (it was never queued): the next `/rollback` of the target closes it',
} as const;

/**
 * Runs an approved rollback that waits with no worker (the bot's workers are down): its job moves from the
 * shared queue to this process, under the same target lock, and runs here as any worker would run it.
 */
export async function resumeCommand(
  ctx: CliContext,
  requestId: string,
  options: { yes?: boolean | undefined },
): Promise<ExitCode> {
  if (!REQUEST_ID.test(requestId)) {
    throw new RollbackError('COMMAND_INVALID', `"${requestId}" is not a request id (rb-…).`, {
      hint: 'Find it with `rapid-rollback status` or `rapid-rollback history`.',
    });
  }
  requireConfirmation(
    options.yes,
    'running a rollback',
    `Read \`rapid-rollback record ${requestId}\`, then run the same command with --yes. Nothing was done.`,
  );
  const { out } = ctx;
  const config = loadCliConfig(ctx);
  const log = cliLogger(ctx.env);
  const { directory } = lazySlack(config.slack, log);
  const core = await buildCore(config, log, { directory });
  try {
    const request = await core.service.find(requestId);
    if (request.state !== 'approved' && request.state !== 'running') {
      throw new RollbackError(
        'REQUEST_CLOSED',
        `Request ${requestId} is ${request.state}: only an approved rollback that waits for a worker can be resumed.`,
        {
          hint: request.state === 'pending' ? 'It needs an approval first.' : 'Nothing was done.',
        },
      );
    }
    const { plan } = request;
    out.line(
      `⏪ Approved rollback ${requestId} of ${request.target}: ${plan.from.label} → ${plan.to.label}, approved by ${request.approver ?? 'someone'} (${request.state})`,
    );
    for (const line of planLines(plan)) out.line(line);
    if (!options.yes && !(await confirm(`Run it from this terminal now? [y/N] `))) {
      out.line('Nothing was done; the job still waits for a worker.');
      out.document({ ok: false, exitCode: EXIT.refused, requestId, state: request.state });
      return EXIT.refused;
    }
    const taken = await core.queue.takeOver(requestId);
    if (taken !== 'taken' && taken !== 'dedicated-already') {
      throw new RollbackError(
        'REQUEST_CLOSED',
        `Request ${requestId} cannot be resumed here: ${NOT_RUNNABLE[taken]}.`,
        {
          hint: `Follow it with \`rapid-rollback record ${requestId}\` and \`rapid-rollback status\`. Nothing was done.`,
        },
      );
    }
    out.line(`⏳ Took ${requestId} off the bot's queue; running it here:`);
    const base = {
      requestId,
      target: request.target,
      plan,
      requester: request.requester,
      approver: request.approver,
      reason: request.reason,
    };
    return await runHereAndFollow(ctx, core, config, log, request, base);
  } finally {
    await core.close();
  }
}
