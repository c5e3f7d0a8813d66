import { type CliConfig, ConfigError, redisSettingsFromEnv } from '../config/load-config.js';
import type { RedisSettings } from '../config/redis-settings.js';
import { describeApprovers } from '../core/approval.js';
import { toRollbackError } from '../core/errors.js';
import { drivers } from '../drivers/registry.js';
import type { Logger } from '../log.js';
import { slackError } from '../slack/post-to-channel.js';
import { probeRedis } from '../wiring.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { createTargetDriver } from './plan-command.js';
import { terminalText } from './render-text.js';
import { type CliContext, cliLogger, driverContext, loadCliConfig } from './setup.js';
import { probeSlack, type SlackAccess } from './slack-access.js';

/** ok and note pass; failed fails the doctor; skipped was not checked because something before it failed. */
interface Check {
  check: string;
  status: 'ok' | 'failed' | 'note' | 'skipped';
  detail: string;
  /** What to do about it. */
  fix?: string | undefined;
  /** Further lines (the config's problems, one each). */
  problems?: string[] | undefined;
}

const MARK: Record<Check['status'], string> = { ok: '✅', failed: '❌', note: '⚠️', skipped: '➖' };
const ok = (check: string, detail: string): Check => ({ check, status: 'ok', detail });
const failed = (check: string, error: unknown): Check => {
  const coded = toRollbackError(error);
  return {
    check,
    status: 'failed',
    detail: terminalText(coded.text),
    fix: coded.hintText && terminalText(coded.hintText),
  };
};

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@]*@/, '//***@');
  }
}

async function checkRedis(
  settings: RedisSettings | undefined,
  prefix: string | undefined,
  log: Logger,
): Promise<Check> {
  if (!settings)
    return { check: 'Redis', status: 'skipped', detail: 'not checked: the Redis settings are wrong (see config)' };
  try {
    const probe = await probeRedis(settings, log);
    const detail = `${probe.detail}${prefix ? `, keys under ${prefix}:` : ''}`;
    if (probe.concerns.length === 0) return ok('Redis', detail);
    return {
      check: 'Redis',
      status: 'note',
      detail: `${detail}; ${probe.concerns.join('; ')}`,
      fix: 'Rollbacks work now, but a failover may not: bring the Sentinels and a replica back (README, "Redis Sentinel").',
    };
  } catch (error) {
    return failed('Redis', error);
  }
}

function checkSlackToken(access: SlackAccess | undefined, apiUrl: string | undefined): Check {
  if (!access)
    return {
      check: 'Slack token',
      status: 'failed',
      detail: 'SLACK_BOT_TOKEN is not set',
      fix: 'The bot needs it to start (the CLI works without it, but tells nobody in Slack): create the Slack app from manifest.yml, install it, and copy its Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN.',
    };
  if (access.reachable)
    return ok(
      'Slack token',
      `team "${access.team}", bot "${access.bot}"${access.botUserId ? ` (${access.botUserId})` : ''}`,
    );
  const refused = /refused the bot token/.test(access.problem);
  return {
    check: 'Slack token',
    status: 'failed',
    detail: access.problem,
    fix: refused
      ? "Copy the Bot User OAuth Token (xoxb-…) from the Slack app's OAuth & Permissions page into SLACK_BOT_TOKEN, and check the app is still installed."
      : `Check that this host reaches ${apiUrl ?? 'https://slack.com/api/'} (proxy, firewall, DNS), or SLACK_API_URL. Rollbacks still run without Slack; there is just no notice.`,
  };
}

async function checkChannel(config: CliConfig | undefined, access: SlackAccess | undefined): Promise<Check> {
  const check = 'incident channel';
  if (!config) return { check, status: 'skipped', detail: 'not checked: the configuration does not load' };
  const channel = config.rules.incidentChannel;
  if (!access?.reachable)
    return { check, status: 'skipped', detail: `${channel} not checked: Slack is not usable (see Slack token)` };
  if (!/^[CG][A-Z0-9]{2,}$/.test(channel)) {
    return {
      check,
      status: 'note',
      detail: `${channel} is a name; conversations.info needs an ID, so it was not checked`,
      fix: 'Put the channel ID (C…, in the channel details) in incidentChannel to have it checked.',
    };
  }
  try {
    const info = await access.client.conversations.info({ channel });
    const c = info.channel;
    const name = c?.name ? `#${c.name} (${channel})` : channel;
    if (c?.is_archived)
      return {
        check,
        status: 'failed',
        detail: `${name} is archived`,
        fix: 'Unarchive it, or name another channel in incidentChannel (rollback.yml).',
      };
    const membership = c?.is_member
      ? 'the bot is a member'
      : c?.is_private
        ? 'private, and the bot is not in it'
        : 'public; the bot joins it with the first notice';
    if (c?.is_private && !c.is_member)
      return {
        check,
        status: 'failed',
        detail: `${name}: ${membership}`,
        fix: `Invite it: \`/invite @Rapid Rollback\` in #${c.name ?? channel}.`,
      };
    return ok(check, `${name}, ${membership}`);
  } catch (error) {
    const code = slackError(error);
    if (code === 'channel_not_found') {
      return {
        check,
        status: 'failed',
        detail: `Slack knows no channel ${channel} the bot can see`,
        fix: 'Check incidentChannel in rollback.yml; if the channel is private, `/invite @Rapid Rollback` in it.',
      };
    }
    if (code === 'missing_scope') {
      return {
        check,
        status: 'failed',
        detail: 'the bot may not read channel details (missing_scope)',
        fix: 'Add channels:read and groups:read (manifest.yml has them) and reinstall the app.',
      };
    }
    return {
      check,
      status: 'failed',
      detail: `conversations.info failed: ${code ?? (error instanceof Error ? error.message : String(error))}`,
      fix: "Try again; if it persists, check Slack's status page.",
    };
  }
}

async function checkTarget(config: CliConfig, name: string, kind: string, log: Logger): Promise<Check> {
  const check = `${name} (${kind})`;
  try {
    const live = await (await createTargetDriver(config, name, log)).live(driverContext(log, 10_000));
    return ok(
      check,
      `${live.resource} is live on ${live.current.label}${live.current.description ? ` — ${live.current.description}` : ''}`,
    );
  } catch (error) {
    return failed(check, error);
  }
}

/**
 * What each provider's descriptor asks doctor to check besides its targets (DriverModule.doctorChecks), each
 * check once, for the targets of every kind that names it.
 */
async function providerChecks(config: CliConfig): Promise<Check[]> {
  const all = [...new Set(drivers.flatMap((driver) => driver.doctorChecks ?? []))];
  const findings = await Promise.all(
    all.map((check) => {
      const kinds = drivers.filter((driver) => driver.doctorChecks?.includes(check)).map((driver) => driver.kind);
      const targets = config.targets.filter((target) => kinds.includes(target.kind));
      return targets.length === 0 ? [] : check.run(targets, config.driverEnvironment);
    }),
  );
  return findings
    .flat()
    .map((finding) => (finding.status === 'failed' ? failed(finding.check, finding.error) : finding));
}

/** Everything a rollback needs, checked at once; one line each, with what to fix. */
export async function doctorCommand(ctx: CliContext): Promise<ExitCode> {
  const log = cliLogger(ctx.env);
  const checks: Check[] = [];
  let config: CliConfig | undefined;
  try {
    config = loadCliConfig(ctx);
    const own = [
      ...config.targets.flatMap((t) => (t.approval?.approvers ? [[t.name, t.approval.approvers] as const] : [])),
      ...Object.entries(config.groupApproval).flatMap(([name, g]) =>
        g.approvers ? [[name, g.approvers] as const] : [],
      ),
    ].map(([name, list]) => `${name}: ${terminalText(describeApprovers(list))}`);
    const groups = Object.keys(config.groups);
    checks.push(
      ok(
        'config',
        `${config.configFile}: ${config.targets.length} target${config.targets.length === 1 ? '' : 's'} (${config.targets.map((t) => t.name).join(', ')})${groups.length > 0 ? `, groups ${groups.join(', ')}` : ''}, approvers ${terminalText(describeApprovers(config.rules.approvers))}${own.length > 0 ? ` (own approvers: ${own.join('; ')})` : ''}, incident channel ${config.rules.incidentChannel}`,
      ),
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    checks.push({
      check: 'config',
      status: 'failed',
      detail: `${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}`,
      fix: 'Every setting is described in README.md ("Configuration").',
      problems: error.problems,
    });
  }
  // When the config does not load, Redis and Slack are still checked with what the environment says.
  const env = ctx.env;
  const redisSettings = config?.redis ?? redisSettingsFromEnv(env);
  const slackSettings =
    config?.slack ??
    (env.SLACK_BOT_TOKEN?.trim()
      ? { botToken: env.SLACK_BOT_TOKEN.trim(), apiUrl: env.SLACK_API_URL?.trim() || undefined }
      : undefined);

  const slackAccess = slackSettings ? probeSlack(slackSettings, log, 5_000) : Promise.resolve(undefined);
  const [redis, access, targets, provided] = await Promise.all([
    checkRedis(redisSettings, config?.redisPrefix, log),
    slackAccess,
    config ? Promise.all(config.targets.map((t) => checkTarget(config, t.name, t.kind, log))) : Promise.resolve([]),
    config ? providerChecks(config) : Promise.resolve([]),
  ]);
  checks.push(redis, checkSlackToken(access, slackSettings?.apiUrl), await checkChannel(config, access));
  if (config) {
    checks.push(...targets);
    checks.push(...provided);
  } else {
    checks.push({ check: 'targets', status: 'skipped', detail: 'not checked: the configuration does not load' });
  }

  const healthy = checks.every((c) => c.status !== 'failed');
  for (const c of checks) {
    ctx.out.line(`${MARK[c.status]} ${c.check}: ${c.detail}${c.fix ? ` → ${c.fix}` : ''}`);
    for (const problem of c.problems ?? []) ctx.out.line(`     - ${problem}`);
  }
  const failures = checks.filter((c) => c.status === 'failed').length;
  ctx.out.line(
    healthy
      ? 'Everything a rollback needs answers.'
      : `${failures} check${failures === 1 ? '' : 's'} failed: fix ${failures === 1 ? 'it' : 'them'} and run \`rapid-rollback doctor\` again.`,
  );
  ctx.out.document({
    ok: healthy,
    checks,
  });
  return healthy ? EXIT.ok : EXIT.refused;
}
