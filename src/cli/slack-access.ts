import { LogLevel, WebClient } from '@slack/web-api';
import { type ApproverDirectory, describeApprovers } from '../core/approval.js';
import { RollbackError } from '../core/errors.js';
import type { ThreadNotes } from '../core/ports/thread-notes.js';
import { text } from '../core/text.js';
import type { Logger } from '../log.js';
import { SlackApproverDirectory } from '../slack/approver-directory.js';
import { slackError } from '../slack/post-to-channel.js';
import { slackLogger } from '../slack/slack-logger.js';
import { slackThreadNotes } from '../slack/thread-notes.js';

/** What the CLI needs of the Slack settings: the bot token, and the API's URL in tests. */
type SlackSettings = { botToken: string; apiUrl?: string | undefined };

/**
 * A client that gives up fast: when Slack itself is down, a break-glass rollback must not wait for
 * the bot's patient retries before it can start.
 */
function quickSlackClient(settings: SlackSettings, log: Logger, timeoutMs: number): WebClient {
  return new WebClient(settings.botToken, {
    slackApiUrl: settings.apiUrl,
    logger: slackLogger(log, 'slack', LogLevel.WARN),
    timeout: timeoutMs,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
}

export type SlackAccess =
  | { reachable: true; client: WebClient; team: string; bot: string; botUserId: string | undefined }
  /** `unset`: there is no SLACK_BOT_TOKEN, so Slack was not asked. */
  | { reachable: false; problem: string; unset?: true };

const NO_TOKEN: SlackAccess = { reachable: false, problem: 'SLACK_BOT_TOKEN is not set', unset: true };

const TOKEN_ERRORS = [
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_allowed_token_type',
];

/** Says in a few words why Slack could not be used. */
function describeSlackFailure(error: unknown, apiUrl: string | undefined, timeoutMs: number): string {
  const code = slackError(error);
  if (code && TOKEN_ERRORS.includes(code)) return `Slack refused the bot token (${code})`;
  if (code) return `Slack answered ${code}`;
  const reason =
    (error as { original?: { message?: string } } | undefined)?.original?.message ??
    (error instanceof Error ? error.message : String(error));
  if (/timeout|timed out|aborted/i.test(reason)) return `Slack did not answer within ${timeoutMs / 1000} s`;
  return `Slack did not answer at ${apiUrl ?? 'https://slack.com/api/'} (${reason})`;
}

/** One `auth.test` with a short timeout: is Slack there, and does it take our token? (No token: not usable.) */
export async function probeSlack(
  settings: SlackSettings | undefined,
  log: Logger,
  timeoutMs = 3_000,
): Promise<SlackAccess> {
  if (!settings) return NO_TOKEN;
  const client = quickSlackClient(settings, log, timeoutMs);
  try {
    const auth = await client.auth.test();
    return { reachable: true, client, team: auth.team ?? '?', bot: auth.user ?? '?', botUserId: auth.user_id };
  } catch (error) {
    log.warn({ err: error }, 'Slack is not usable');
    return { reachable: false, problem: describeSlackFailure(error, settings.apiUrl, timeoutMs) };
  }
}

/**
 * Lines core adds in a rollback's thread (a deploy the gate refused, a freeze lifted), posted as the bot posts
 * them but giving up after `timeoutMs`: the gate answers a pipeline whether or not Slack does. Not a probe first:
 * most answers post nothing.
 */
export function quickThreadNotes(
  settings: SlackSettings | undefined,
  incidentChannel: string,
  log: Logger,
  timeoutMs = 3_000,
): ThreadNotes | undefined {
  if (!settings) return undefined;
  return slackThreadNotes(quickSlackClient(settings, log, timeoutMs), incidentChannel, log);
}

/**
 * The bot's rule (listed users, or members of listed user groups) while Slack answers. While it does
 * not, group membership cannot be read, so only users listed by ID count, and the refusal says why.
 */
export class CliApproverDirectory implements ApproverDirectory {
  private slack: SlackApproverDirectory | undefined;

  constructor(
    /** The probe's answer, or a function that starts it when first needed. */
    private readonly access: Promise<SlackAccess> | (() => Promise<SlackAccess>),
    private readonly log: Logger,
  ) {}

  async isApprover(userId: string, approvers: readonly string[]): Promise<boolean> {
    if (approvers.includes(userId)) return true;
    const groups = approvers.filter((id) => id.startsWith('S'));
    if (groups.length === 0) return false;
    const access = await (typeof this.access === 'function' ? this.access() : this.access);
    if (access.reachable) {
      this.slack ??= new SlackApproverDirectory(access.client, this.log);
      return this.slack.isApprover(userId, approvers);
    }
    const direct = approvers.filter((id) => !id.startsWith('S'));
    throw new RollbackError(
      'NOT_AUTHORIZED',
      text`${userId} is not listed by user ID, and ${access.problem}, so membership of ${describeApprovers(groups)} cannot be checked.`,
      {
        hint:
          direct.length > 0
            ? text`While Slack is unreachable only approvers listed by user ID count: ${describeApprovers(direct)}. Nothing was queued.`
            : "While Slack is unreachable only approvers listed by user ID count, and rollback.yml lists none: add the approver's user ID (U…) to approvers. Nothing was queued.",
      },
    );
  }
}

/**
 * Slack as a command that changes something asks it: probed once, when first needed (after start-up, so that
 * loading the drivers cannot time the probe out), and the approver directory that reads user groups through it.
 */
export function lazySlack(
  settings: Parameters<typeof probeSlack>[0],
  log: Logger,
): { slackAccess: () => Promise<SlackAccess>; directory: CliApproverDirectory } {
  let probe: Promise<SlackAccess> | undefined;
  const slackAccess = () => (probe ??= probeSlack(settings, log));
  return { slackAccess, directory: new CliApproverDirectory(slackAccess, log) };
}
