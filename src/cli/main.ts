#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load-config.js';
import { nodeVersionProblem, readDotEnv } from '../config/start-up.js';
import { isRollbackError, RollbackError } from '../core/errors.js';
import { type ApproveOptions, approveCommand } from './approve-command.js';
import { parseLimit, parsePerson, parseReason, parseRequestId, parseVersion } from './arguments.js';
import { doctorCommand } from './doctor-command.js';
import { EXIT, EXIT_CODES_HELP, type ExitCode, exitCodeFor } from './exit-codes.js';
import { freezeCommand, gateCommand, type UnfreezeOptions, unfreezeCommand } from './freeze-commands.js';
import { Output } from './output.js';
import { planCommand } from './plan-command.js';
import { historyCommand, recordCommand, statusCommand } from './read-commands.js';
import { resumeCommand } from './resume-command.js';
import { rollbackCommand } from './rollback-command.js';
import { namedTargets, rollbackManyCommand } from './rollback-many-command.js';
import { type CliContext, isDebug, loadCliConfig } from './setup.js';

// `rapid-rollback history | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const ENVIRONMENT_HELP = `Settings come from the environment, as for the bot (README.md, "Configuration"), and from a
.env file in the current directory; SLACK_SIGNING_SECRET is not needed, nor SLACK_BOT_TOKEN (without
it nothing is said in Slack). Logs (pino, JSON) go to stderr at LOG_LEVEL (default error here);
results go to stdout.`;

const ROLLBACK_EXAMPLE = `
Example:
  $ rapid-rollback plan cdn
  $ rapid-rollback rollback cdn --reason "elevated 5xx after deploy" --approved-by U0123APPROVER

The approver must be listed in rollback.yml (by user ID, or as a member of a listed user group while
Slack answers) and is not the requester unless allowSelfApproval. Unless --no-wait, the rollback runs
here, whether or not a bot worker is up: this process runs its own job (no other) and prints each step.
With --no-wait a bot worker runs it; if none is up, \`rapid-rollback resume <request-id>\` runs it here.`;

const APPROVE_HELP = `
Break-glass: with selfApprovalAfter in rollback.yml (say 10m), the requester of a request no approver has
acted on for that long may approve it themselves, typing the target's name. The notice, the thread and the
incident record say "self-approved after 10 min without an approver (break-glass)" and name the approvers.
Before that time, or without the flag, it is refused as a self-approval (saying from when it is possible).

Example:
  $ rapid-rollback approve rb-mwr6wjds-tfq20d --approved-by U0123APPROVER
  $ rapid-rollback approve rb-mwr6wjds-tfq20d --approved-by U0123ME --break-glass cdn`;

const GATE_HELP = `
Exit codes of gate, for a pipeline's deploy step:
  0  deployable: not frozen, or --commit contains the revert of the rollback that froze it
  1  frozen: do not deploy this (the reason and what lifts the freeze are printed)
  2  unknown target, or a --commit that is not a sha or not in the repository
  3  Redis or git did not answer: the gate cannot tell, so do not deploy; try again

After a rollback its target is frozen: with git settings, only a commit that contains the rollback's revert
may go out (Create revert branch, in the rollback's thread, makes the revert); else nothing until an
approved unfreeze. A refused commit is said once in the rollback's Slack thread, when Slack answers.

Example:
  $ rapid-rollback gate cdn --commit "$GITHUB_SHA"
  $ rapid-rollback --json gate cdn --commit "$CI_COMMIT_SHA"`;

const UNFREEZE_HELP = `
The approver must be listed in rollback.yml (by user ID, or as a member of a listed user group while
Slack answers) and is not the requester unless allowSelfApproval, as for rollback. A target frozen by
a rollback also thaws by itself once a deploy that contains the revert is live (bot workers check).`;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Turns whatever stopped a command into words on stderr (or the JSON document) and an exit code. */
function report(ctx: CliContext, error: unknown): ExitCode {
  if (error instanceof ConfigError) {
    ctx.out.document({
      ok: false,
      exitCode: EXIT.usage,
      error: { code: error.code, message: 'the configuration has problems', problems: error.problems },
    });
    ctx.out.note(
      [
        'rapid-rollback: the configuration has problems:',
        ...error.problems.map((p) => `  - ${p}`),
        'Every setting is described in README.md ("Configuration").',
      ].join('\n'),
    );
    return EXIT.usage;
  }
  const code = exitCodeFor(error);
  if (isRollbackError(error)) {
    ctx.out.error(error, code);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    ctx.out.document({ ok: false, exitCode: code, error: { code: 'UNEXPECTED', message } });
    ctx.out.note(
      `❌ rapid-rollback hit an error it did not expect: ${message}\nRun again with LOG_LEVEL=debug for the details; check what is live with \`rapid-rollback status\`.`,
    );
  }
  if (isDebug(ctx.env) && error instanceof Error && error.stack) ctx.out.note(error.stack);
  return code;
}

async function main(argv: readonly string[]): Promise<number> {
  const tooOld = nodeVersionProblem();
  if (tooOld) {
    new Output(argv.includes('--json')).document({
      ok: false,
      exitCode: EXIT.usage,
      error: { code: 'NODE_VERSION', message: tooOld },
    });
    process.stderr.write(`${tooOld}\n`);
    return EXIT.usage;
  }
  readDotEnv();
  let exitCode: number = EXIT.ok;
  const program = new Command('rapid-rollback');

  /** Every action: the global options, the command, and its outcome as an exit code. */
  const act =
    <A extends unknown[]>(command: (ctx: CliContext, ...args: A) => Promise<ExitCode>) =>
    async (...args: unknown[]): Promise<void> => {
      const globals = program.opts<{ json?: boolean; config?: string }>();
      const ctx: CliContext = { out: new Output(Boolean(globals.json)), env: process.env, configFile: globals.config };
      try {
        exitCode = await command(ctx, ...(args.slice(0, -1) as A));
      } catch (error) {
        exitCode = report(ctx, error);
      }
    };

  program
    .description(
      'Break-glass rollbacks from a terminal, for when Slack is down: the same core, queue, locks, rules and record as the Slack bot.',
    )
    .version(packageVersion())
    .option('--json', 'machine-readable output: one JSON document on stdout')
    .option('--config <file>', 'the targets file (overrides ROLLBACK_CONFIG, default ./rollback.yml)')
    .exitOverride()
    .showHelpAfterError('(rapid-rollback --help lists the commands)')
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n\n${ENVIRONMENT_HELP}`);

  program
    .command('plan')
    .description(
      'print the plan: live version → version to restore (pinned), why it was chosen, the steps. Changes nothing.',
    )
    .argument('<target>', 'a target from rollback.yml')
    .option('--to <version>', 'a version you name (v41), instead of the previously active one', parseVersion)
    .action(act((ctx, target: string, options: { to?: string }) => planCommand(ctx, target, options)));

  program
    .command('rollback')
    .description(
      'roll targets back, approved by a listed approver: the same rules and record as /rollback in Slack. Several targets (or a group) go on one approval',
    )
    .argument(
      '<targets...>',
      'targets or groups from rollback.yml (several: one request, refused as a whole if one cannot go)',
    )
    .requiredOption('--reason <text>', 'why, for the notice and the incident record', parseReason)
    .requiredOption(
      '--approved-by <user-id>',
      "the approver's Slack user ID (listed in approvers, never the requester)",
      parsePerson,
    )
    .option('--requested-by <user-id>', 'who asks (default cli:$USER)', parsePerson)
    .option('--to <version>', 'a version you name (v41), instead of the previously active one', parseVersion)
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .option('--no-wait', 'queue the job and return; a bot worker runs it')
    .addHelpText('after', ROLLBACK_EXAMPLE)
    .action(
      act(
        (
          ctx,
          names: string[],
          options: {
            reason: string;
            approvedBy: string;
            requestedBy?: string;
            to?: string;
            yes?: boolean;
            wait: boolean;
          },
        ) => rollbackNamed(ctx, names, options),
      ),
    );

  program
    .command('approve')
    .description('approve a waiting request (from Slack, say) under the same rules as its Approve button, and run it')
    .argument('<request-id>', 'the request (rb-…), as its Slack message and /rollback status show it')
    .requiredOption(
      '--approved-by <user-id>',
      "the approver's Slack user ID (listed in approvers; the requester only with --break-glass)",
      parsePerson,
    )
    .option(
      '--break-glass <target>',
      "the requester's own approval once no approver has acted for selfApprovalAfter: type the target's name",
    )
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .option('--no-wait', 'queue the job and return; a bot worker runs it')
    .addHelpText('after', APPROVE_HELP)
    .action(act((ctx, requestId: string, options: ApproveOptions) => approveCommand(ctx, requestId, options)));

  program
    .command('resume')
    .description('run an approved rollback that waits with no bot worker up, here, under the same lock and rules')
    .argument('<request-id>', 'the waiting request (rb-…), as /rollback status or history show it')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .action(act((ctx, requestId: string, options: { yes?: boolean }) => resumeCommand(ctx, requestId, options)));

  program
    .command('gate')
    .description('may a deploy go out to a target now? exit 0 deployable, 1 frozen (for pipelines; Slack not needed)')
    .argument('<target>', 'a target from rollback.yml')
    .option(
      '--commit <sha>',
      'the commit to deploy; while frozen after a rollback, only one with its revert may go out',
    )
    .addHelpText('after', GATE_HELP)
    .action(act((ctx, target: string, options: { commit?: string }) => gateCommand(ctx, target, options)));

  program
    .command('freeze')
    .description('freeze a target by hand at once: the deploy gate refuses every deploy until an approved unfreeze')
    .argument('<target>', 'a target from rollback.yml')
    .requiredOption('--reason <text>', 'why, for the gate and the record', parseReason)
    .option('--by <user-id>', 'who freezes it (default cli:$USER)', parsePerson)
    .action(
      act((ctx, target: string, options: { reason: string; by?: string }) => freezeCommand(ctx, target, options)),
    );

  program
    .command('unfreeze')
    .description("lift a target's freeze, approved by a listed approver: the same rules as rollback")
    .argument('<target>', 'a frozen target')
    .requiredOption('--reason <text>', 'why deploys may go out again, for the record', parseReason)
    .requiredOption(
      '--approved-by <user-id>',
      "the approver's Slack user ID (listed in approvers, never the requester)",
      parsePerson,
    )
    .option('--requested-by <user-id>', 'who asks (default cli:$USER)', parsePerson)
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .addHelpText('after', UNFREEZE_HELP)
    .action(act((ctx, target: string, options: UnfreezeOptions) => unfreezeCommand(ctx, target, options)));

  program
    .command('status')
    .description('every target: live version, diverged from git or not, frozen or not, rollbacks under way')
    .action(act((ctx) => statusCommand(ctx)));

  program
    .command('history')
    .description('the last rollbacks with outcome and duration, then the freezes that ended')
    .argument('[target]', 'only this target')
    .option('--limit <n>', 'how many (1-100)', parseLimit, 10)
    .action(
      act((ctx, target: string | undefined, options: { limit: number }) => historyCommand(ctx, target, options.limit)),
    );

  program
    .command('record')
    .description("a request's incident record: markdown with the timeline in UTC, people, versions, durations")
    .argument('<request-id>', 'rb-… (history lists them)', parseRequestId)
    .action(act((ctx, id: string) => recordCommand(ctx, id)));

  program
    .command('doctor')
    .description(
      'check the config, Redis, the Slack token and channel, each target, helm and kubeconfig; one line each with what to fix',
    )
    .action(act((ctx) => doctorCommand(ctx)));

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and --version end with 0; a usage error (commander has printed it on stderr) with 2.
    if (error.exitCode === 0) return EXIT.ok;
    // A script that asked for --json reads stdout: it gets the error as the one JSON document there.
    const json = Boolean(program.opts<{ json?: boolean }>().json) || argv.slice(2).includes('--json');
    new Output(json).document(usageErrorDocument(error));
    return EXIT.usage;
  }
  return exitCode;
}

/** Commander's "error: unknown command 'rollbak'\n(Did you mean rollback?)" as the --json error document. */
function usageErrorDocument(error: CommanderError) {
  const message = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  return {
    ok: false,
    exitCode: EXIT.usage,
    error: { code: 'USAGE', message, hint: 'rapid-rollback --help lists the commands; <command> --help its flags.' },
  };
}

const code = await main(process.argv);
// Let stdout drain (it may be a pipe), then end even if a client keeps a socket open.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
process.exit(code);

/** One target: the single-target flow (--to allowed). Several, or a group: one request for all of them. */
function rollbackNamed(
  ctx: CliContext,
  names: string[],
  options: Parameters<typeof rollbackCommand>[2],
): Promise<ExitCode> {
  const [first] = names;
  const many = names.length > 1 || (first !== undefined && namedTargets([first], loadCliConfig(ctx)).group);
  if (!many && first !== undefined) return rollbackCommand(ctx, first, options);
  if (options.to !== undefined)
    throw new RollbackError('COMMAND_INVALID', "--to names one target's version, not several targets'.", {
      hint: 'Leave --to out: each target goes back to its previous version. Or roll one target back with --to. Nothing was done.',
    });
  return rollbackManyCommand(ctx, names, options);
}
