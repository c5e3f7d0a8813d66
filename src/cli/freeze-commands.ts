import type { CliConfig } from '../config/load-config.js';
import { checkApproverFor, scopesOf } from '../core/approval.js';
import type { FreezeService } from '../core/freeze-service.js';
import { defaultRequester } from './arguments.js';
import { confirm } from './confirm.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { gateLines } from './format.js';
import { frozenJson, gateJson, liftedJson } from './freeze-json.js';
import { withCore } from './read-commands.js';
import { terminalText } from './render-text.js';
import { CLI_ORIGIN, inContext } from './rollback-command.js';
import { type CliContext, requireConfirmation } from './setup.js';
import { type CliApproverDirectory, lazySlack, quickThreadNotes } from './slack-access.js';

/**
 * The deploy gate for a pipeline: exit 0 deployable, 1 frozen. Slack is not needed; a refused commit is said once
 * in the rollback's thread when Slack answers within a few seconds.
 */
export function gateCommand(ctx: CliContext, target: string, options: { commit?: string }): Promise<ExitCode> {
  return withCore(
    ctx,
    async (core) => {
      const answer = await core.service.gate.gate(target, options.commit);
      for (const line of gateLines(answer)) ctx.out.line(line);
      ctx.out.document(gateJson(answer, options.commit));
      return answer.deployable ? EXIT.ok : EXIT.refused;
    },
    (config, log) => ({ notes: quickThreadNotes(config.slack, config.rules.incidentChannel, log) }),
  );
}

/** Freezes a target by hand at once, as `/rollback freeze` does: exit 1 when it is frozen already. */
export function freezeCommand(
  ctx: CliContext,
  target: string,
  options: { reason: string; by?: string | undefined },
): Promise<ExitCode> {
  return withCore(ctx, async (core) => {
    const { freezes } = core.service;
    const freeze = await freezes.freezeByHand({
      target,
      reason: options.reason,
      by: options.by ?? defaultRequester(ctx.env),
    });
    const lift = freezes.liftText(freeze);
    ctx.out.line(`🔒 ${target} is ${terminalText(freezes.describe(freeze))} (${freeze.id}).`);
    ctx.out.line(`   The deploy gate refuses every deploy until ${terminalText(lift)}.`);
    ctx.out.document({ ok: true, exitCode: EXIT.ok, target, frozen: frozenJson({ freeze, lift }) });
    return EXIT.ok;
  });
}

export interface UnfreezeOptions {
  reason: string;
  approvedBy: string;
  requestedBy?: string | undefined;
  yes?: boolean | undefined;
}

/**
 * `/rollback unfreeze` and its approval in one go, under the rollback's rules: a listed approver (user groups only
 * while Slack answers), never the requester unless allowSelfApproval, confirmed on a terminal or with --yes.
 */
export async function unfreezeCommand(ctx: CliContext, target: string, options: UnfreezeOptions): Promise<ExitCode> {
  requireConfirmation(
    options.yes,
    'lifting the freeze',
    `See what holds it with \`rapid-rollback gate ${target}\`, then run the same command with --yes.`,
  );
  let directory: CliApproverDirectory | undefined;
  return withCore(
    ctx,
    (core, config) => unfreezeWith(ctx, core.service.freezes, config, directory!, target, options),
    (config, log) => {
      directory = lazySlack(config.slack, log).directory;
      return { directory, notes: quickThreadNotes(config.slack, config.rules.incidentChannel, log) };
    },
  );
}

async function unfreezeWith(
  ctx: CliContext,
  freezes: FreezeService,
  config: CliConfig,
  directory: CliApproverDirectory,
  target: string,
  options: UnfreezeOptions,
): Promise<ExitCode> {
  const { out } = ctx;
  const requester = options.requestedBy ?? defaultRequester(ctx.env);
  const { request, freeze } = await freezes.requestUnfreeze({
    target,
    reason: options.reason,
    requester,
    origin: CLI_ORIGIN,
  });
  const holds = terminalText(freezes.describe(freeze));
  out.line(`🔓 Unfreeze of ${target} (request ${request.id}): it is ${holds}.`);
  out.line(`  Requested by ${requester}, to be approved by ${options.approvedBy} · Reason: ${options.reason}`);

  // A request the CLI cannot go on with is closed, not left open for an approval that cannot come.
  const withdraw = () =>
    freezes.cancelUnfreeze(request.id, requester).then(
      () => undefined,
      () => undefined,
    );
  try {
    // Same check as approveUnfreeze makes, before asking anyone to confirm an unfreeze that would be refused.
    await checkApproverFor(
      request,
      options.approvedBy,
      scopesOf(config.rules, config.targets, [target]),
      directory,
      'unfreeze',
    );
  } catch (error) {
    await withdraw();
    throw inContext(error, `--approved-by ${options.approvedBy}`);
  }
  if (!options.yes) {
    if (out.json) out.note(`${target} is ${holds}.`);
    const yes = await confirm(
      `Lift the freeze of ${target} now, approved by ${options.approvedBy}? Deploys then go out whether or not they contain the rollback's revert. [y/N] `,
    );
    if (!yes) {
      await withdraw();
      out.line(`Nothing was done; unfreeze request ${request.id} is cancelled and ${target} stays frozen.`);
      out.document({ ok: false, exitCode: EXIT.refused, target, request: request.id, state: 'cancelled' });
      return EXIT.refused;
    }
  }
  let lifted: Awaited<ReturnType<FreezeService['approveUnfreeze']>>['lifted'];
  try {
    ({ lifted } = await freezes.approveUnfreeze(request.id, options.approvedBy));
  } catch (error) {
    await withdraw();
    throw error;
  }
  out.line(`🔓 ${target} is no longer frozen: ${terminalText(lifted.lifted.why)}.`);
  out.line('   Deploys go through the gate again.');
  out.document({ ok: true, exitCode: EXIT.ok, target, request: request.id, lifted: liftedJson(lifted) });
  return EXIT.ok;
}
