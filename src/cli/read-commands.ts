import type { CliConfig } from '../config/load-config.js';
import type { ApproverDirectory } from '../core/approval.js';
import { RollbackError } from '../core/errors.js';
import { renderIncidentRecord } from '../core/incident-record.js';
import type { ThreadNotes } from '../core/ports/thread-notes.js';
import type { Logger } from '../log.js';
import type { Core } from '../wiring.js';
import { buildCore } from '../wiring.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { freezeHistoryLines, historyLines, statusLines } from './format.js';
import { frozenJson, liftedJson } from './freeze-json.js';
import { TERMINAL } from './render-text.js';
import { type CliContext, cliLogger, loadCliConfig } from './setup.js';
import { CliApproverDirectory, type SlackAccess } from './slack-access.js';

/** The ports a command plugs into core beside Redis; read-only commands need neither. */
export interface CorePorts {
  directory?: ApproverDirectory | undefined;
  notes?: ThreadNotes | undefined;
}

/**
 * The core for one command, closed when it is done. status, history and record only read: Slack is never
 * asked, so they answer while it is down. `ports` gives the others what they need, from the config and log.
 */
export async function withCore<T>(
  ctx: CliContext,
  work: (core: Core, config: CliConfig) => Promise<T>,
  ports?: (config: CliConfig, log: Logger) => CorePorts,
): Promise<T> {
  const config = loadCliConfig(ctx);
  const log = cliLogger(ctx.env);
  const given = ports?.(config, log) ?? {};
  const noSlack: Promise<SlackAccess> = Promise.resolve({
    reachable: false,
    problem: 'Slack is not asked by read-only commands',
  });
  const core = await buildCore(config, log, {
    directory: given.directory ?? new CliApproverDirectory(noSlack, log),
    notes: given.notes,
  });
  try {
    return await work(core, config);
  } finally {
    await core.close();
  }
}

export function statusCommand(ctx: CliContext): Promise<ExitCode> {
  return withCore(ctx, async (core) => {
    const statuses = await core.service.queries.status();
    ctx.out.line('Rollback targets');
    for (const line of statusLines(statuses)) ctx.out.line(line);
    // A status with a target left unread is not a clean answer: a script must not read it as "all is well".
    const unreadable = statuses.filter((s) => s.error !== undefined).map((s) => s.name);
    const exitCode = unreadable.length > 0 ? EXIT.unreachable : EXIT.ok;
    if (unreadable.length > 0) {
      ctx.out.note(
        `⚠️ Could not read the live version of ${unreadable.join(', ')} (above): \`rapid-rollback doctor\` says what to fix.`,
      );
    }
    ctx.out.document({
      ok: exitCode === EXIT.ok,
      exitCode,
      unreadable,
      targets: statuses.map((s) => ({ ...s, frozen: s.frozen ? frozenJson(s.frozen) : undefined })),
    });
    return exitCode;
  });
}

export function historyCommand(ctx: CliContext, target: string | undefined, limit: number): Promise<ExitCode> {
  return withCore(ctx, async (core) => {
    const [entries, freezes] = await Promise.all([
      core.service.queries.history(target, limit),
      core.service.freezes.history(target, limit),
    ]);
    ctx.out.line(`Last rollbacks${target ? ` of ${target}` : ''}`);
    for (const line of historyLines(entries, target)) ctx.out.line(line);
    if (freezes.length > 0) {
      ctx.out.line();
      ctx.out.line(`Freezes that ended${target ? ` on ${target}` : ''}`);
      for (const line of freezeHistoryLines(freezes)) ctx.out.line(line);
    }
    ctx.out.document({
      ok: true,
      rollbacks: entries.map(({ request, durationMs }) => ({
        requestId: request.id,
        target: request.target,
        from: request.plan.from,
        to: request.plan.to,
        state: request.state,
        outcome: request.outcome,
        durationMs,
        requester: request.requester,
        approver: request.approver,
        reason: request.reason,
        createdAt: new Date(request.createdAt).toISOString(),
      })),
      freezes: freezes.map(liftedJson),
    });
    return EXIT.ok;
  });
}

export function recordCommand(ctx: CliContext, id: string): Promise<ExitCode> {
  return withCore(ctx, async (core, config) => {
    if (!(await core.store.get(id))) {
      throw new RollbackError(
        'REQUEST_UNKNOWN',
        `There is no request ${id} on this Redis (REDIS_PREFIX ${config.redisPrefix}).`,
        {
          hint: '`rapid-rollback history` lists the recent ones; requests are kept for 90 days.',
        },
      );
    }
    const { request, timeline } = await core.service.queries.incidentRecord(id);
    const markdown = renderIncidentRecord(request, timeline, TERMINAL);
    // The record is a document to paste: printed as it is, as the Incident record button posts it.
    ctx.out.raw(markdown);
    ctx.out.document({ ok: true, requestId: id, markdown, timeline });
    return EXIT.ok;
  });
}
