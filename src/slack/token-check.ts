import type { WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';

/** Slack's answers that mean the token itself is wrong: asking again will not help. */
const REFUSED = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired']);

export interface SlackTokenCheck {
  /** Whether Slack has accepted the bot token (auth.test), and if not, what it said. */
  state(): { ready: boolean; detail: string };
  stop(): void;
}

/**
 * Asks Slack once at start whether it takes the bot token (auth.test), and again every `retryMs` while Slack
 * does not answer; a refusal is final (a new token needs a restart). Readiness reports it.
 */
export function checkSlackToken(client: WebClient, log: Logger, retryMs = 15_000): SlackTokenCheck {
  let current = { ready: false, detail: 'Slack has not answered auth.test yet.' };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const ask = () => {
    client.auth.test().then(
      (result) => {
        current = { ready: true, detail: `Slack accepted the bot token (bot user ${result.user_id ?? 'unknown'}).` };
      },
      (error: unknown) => {
        const said = (error as { data?: { error?: string } }).data?.error;
        if (said && REFUSED.has(said)) {
          current = {
            ready: false,
            detail: `Slack refused SLACK_BOT_TOKEN (${said}): copy the Bot User OAuth Token again and restart.`,
          };
          log.error({ said }, 'Slack refused the bot token');
          return;
        }
        current = {
          ready: false,
          detail: `Slack did not confirm the bot token (auth.test: ${said ?? (error as Error).message}); asking again.`,
        };
        if (!stopped) timer = setTimeout(ask, retryMs).unref();
      },
    );
  };
  ask();
  return {
    state: () => current,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
