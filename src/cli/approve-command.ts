import { breakGlassApprovalText } from '../core/break-glass.js';
import { isRollbackError, RollbackError } from '../core/errors.js';
import { REQUEST_ID, type RollbackRequest } from '../core/request.js';
import { text } from '../core/text.js';
import { approvedDecision, decidedRequestMessage } from '../slack/blocks/request-blocks.js';
import { buildCore } from '../wiring.js';
import { confirm } from './confirm.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { planLines } from './format.js';
import { terminalText } from './render-text.js';
import { inContext, queueAndFollow } from './rollback-command.js';
import { type CliContext, cliLogger, loadCliConfig, requireConfirmation } from './setup.js';
import { lazySlack, type SlackAccess } from './slack-access.js';

export interface ApproveOptions {
  approvedBy: string;
  /** The target's name, typed: its requester's deliberate break-glass self-approval (selfApprovalAfter). */
  breakGlass?: string | undefined;
  yes?: boolean | undefined;
  /** false with --no-wait: queue and return. */
  wait: boolean;
}

/**
 * Approves a pending request (one asked for in Slack, say, that nobody approved there) under the same rules as
 * the Approve button: a listed approver, or its requester with --break-glass <target> once no approver has acted
 * for selfApprovalAfter. Then as `rollback`: the notice, the job, and unless --no-wait the steps here.
 */
export async function approveCommand(ctx: CliContext, requestId: string, options: ApproveOptions): Promise<ExitCode> {
  if (!REQUEST_ID.test(requestId)) {
    throw new RollbackError('COMMAND_INVALID', `"${requestId}" is not a request id (rb-…).`, {
      hint: 'Find it with `rapid-rollback status` or `rapid-rollback history`.',
    });
  }
  requireConfirmation(
    options.yes,
    'approving a rollback',
    `Read \`rapid-rollback record ${requestId}\`, then run the same command with --yes. Nothing was done.`,
  );
  const { out } = ctx;
  const config = loadCliConfig(ctx);
  const log = cliLogger(ctx.env);
  const { slackAccess, directory } = lazySlack(config.slack, log);
  const core = await buildCore(config, log, { directory });
  void slackAccess();
  try {
    const pending = await core.service.find(requestId);
    const { plan } = pending;
    out.line(
      `⏪ Rollback request ${requestId} of ${pending.target}: ${plan.from.label} → ${plan.to.label}, requested by ${pending.requester} (${pending.state})`,
    );
    for (const line of planLines(plan)) out.line(line);
    const as = options.breakGlass === undefined ? '' : ' yourself (break-glass)';
    if (!options.yes && !(await confirm(`Approve it${as} as ${options.approvedBy} and roll back now? [y/N] `))) {
      out.line('Nothing was done; the request is still open.');
      out.document({ ok: false, exitCode: EXIT.refused, requestId, state: pending.state, plan });
      return EXIT.refused;
    }
    const breakGlass = options.breakGlass === undefined ? undefined : { targetName: options.breakGlass };
    const approved = await core.service
      .approve(requestId, options.approvedBy, undefined, { breakGlass })
      .catch((error: unknown) => {
        throw inContext(withFlagHint(error, pending), `--approved-by ${options.approvedBy}`);
      });
    if (approved.breakGlass)
      out.line(`⚠️ ${terminalText(text`${breakGlassApprovalText(approved.approver ?? '', approved.breakGlass)}.`)}`);
    const slack = await slackAccess();
    await rewriteSlackRequest(slack, approved);
    return await queueAndFollow(ctx, core, config, log, approved, slack, options.wait);
  } finally {
    await core.close();
  }
}

/** In a terminal the confirmation is a flag: say which. */
function withFlagHint(error: unknown, request: RollbackRequest): unknown {
  if (!isRollbackError(error) || error.code !== 'BREAK_GLASS_UNCONFIRMED') return error;
  return new RollbackError(error.code, error.text, {
    hint: `Confirm with --break-glass ${request.target} (the target's name). Nothing was queued.`,
    details: error.details,
    cause: error,
  });
}

/** The request's message in Slack loses its buttons and says who approved, as a click there would have done. */
async function rewriteSlackRequest(slack: SlackAccess, request: RollbackRequest): Promise<void> {
  if (!slack.reachable || !request.origin.messageTs) return;
  await slack.client.chat
    .update({
      channel: request.origin.channel,
      ts: request.origin.messageTs,
      ...decidedRequestMessage(request, approvedDecision(request, undefined)),
    })
    .catch(() => undefined);
}
