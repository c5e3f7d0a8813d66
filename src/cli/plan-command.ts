import type { Redis } from 'ioredis';
import type { CliConfig } from '../config/load-config.js';
import { RollbackError } from '../core/errors.js';
import { isAt } from '../core/executor.js';
import { closestName } from '../core/names.js';
import { withChanges } from '../core/plan-changes.js';
import type { RollbackDriver } from '../core/ports/driver.js';
import { createDriver } from '../drivers/registry.js';
import type { Logger } from '../log.js';
import { connectRedis, createSymmetry, requestStoreOn } from '../wiring.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { planLines } from './format.js';
import { type CliContext, cliLogger, driverContext, loadCliConfig } from './setup.js';

/** The target's driver alone, so that one broken target does not stop a plan of another; only its provider is loaded. */
export async function createTargetDriver(config: CliConfig, target: string, log: Logger): Promise<RollbackDriver> {
  const entry = config.targets.find((t) => t.name === target);
  if (!entry) {
    const names = config.targets.map((t) => t.name);
    const guess = closestName(target, names);
    throw new RollbackError(
      'TARGET_UNKNOWN',
      `There is no target called "${target}".${guess ? ` Did you mean \`${guess}\`?` : ''}`,
      {
        hint: `Known targets: ${names.map((n) => `\`${n}\``).join(', ')} (${config.configFile}). Nothing was queued.`,
      },
    );
  }
  return createDriver(entry, config.driverEnvironment, log);
}

/**
 * Prints what `rollback` would do, and changes nothing. Works without Redis (the plan is read from
 * the provider), so it can guide a rollback by hand; with Redis it also says what a rule would refuse.
 */
export async function planCommand(
  ctx: CliContext,
  target: string,
  options: { to?: string | undefined },
): Promise<ExitCode> {
  const config = loadCliConfig(ctx);
  const log = cliLogger(ctx.env);
  const driver = await createTargetDriver(config, target, log);
  const redisAnswer = connectRedis(config.redis, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }, log).then(
    (redis) => ({ redis, problem: undefined }),
    (error: unknown) => ({
      redis: undefined as Redis | undefined,
      problem: error instanceof RollbackError ? error.message : String(error),
    }),
  );
  try {
    // One deadline for the plan and what it changes, as the Slack app reads them.
    const read = driverContext(log, 20_000);
    const plan = await withChanges(
      driver,
      createSymmetry(config),
      read,
      await driver.plan(read, { toVersion: options.to }),
    );
    const { redis, problem } = await redisAnswer;
    const refusals: string[] = [];
    if (redis) {
      // The same reads RollbackService.request makes before it accepts a request.
      const store = requestStoreOn(redis, config.redisPrefix);
      const [holder, last] = await Promise.all([store.lockHolder(target), store.lastRollback(target)]);
      if (holder) {
        const running = await store.get(holder);
        refusals.push(
          `A rollback of ${target} is already under way (${holder}${running ? `, ${running.state}` : ''}): one rollback per target at a time. Follow it with \`rapid-rollback status\`.`,
        );
      }
      if (!options.to && last && isAt(plan.from, last.to) && last.from.id === plan.to.id) {
        refusals.push(
          `${target} is on ${plan.from.label} because of a rollback from ${last.from.label} (approved by ${last.by}, ${last.at}). A rollback cannot be undone from the same pipeline. Fix forward, or name the version explicitly: --to ${last.from.label}.`,
        );
      }
    }
    ctx.out.line(`Plan: ${plan.target} ${plan.from.label} → ${plan.to.label} (nothing was changed)`);
    for (const line of planLines(plan)) ctx.out.line(line);
    if (problem)
      ctx.out.line(
        `⚠️ Redis did not answer, so locks and the no-undo rule were not checked, and \`rollback\` cannot run: ${problem}`,
      );
    for (const refusal of refusals) ctx.out.line(`⚠️ \`rollback\` would be refused: ${refusal}`);
    if (!problem && refusals.length === 0) {
      ctx.out.line(
        `To roll back: rapid-rollback rollback ${target}${options.to ? ` --to ${plan.to.label}` : ''} --reason "<why>" --approved-by <approver's Slack user ID>`,
      );
    }
    ctx.out.document({
      ok: true,
      plan,
      redis: problem ? { reachable: false, problem } : { reachable: true },
      refusals,
    });
    return EXIT.ok;
  } finally {
    await redisAnswer.then(({ redis }) => redis?.disconnect());
  }
}
