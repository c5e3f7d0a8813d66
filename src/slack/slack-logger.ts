import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from '../log.js';

/** Slack's logger interface (Bolt, @slack/web-api) on pino, so their lines come out as JSON with ours. */
export function slackLogger(log: Logger, component: string, initial: LogLevel = LogLevel.INFO): SlackLogger {
  const child = log.child({ component });
  let level = initial;
  const text = (parts: unknown[]) => parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  return {
    debug: (...parts) => child.debug(text(parts)),
    info: (...parts) => child.info(text(parts)),
    warn: (...parts) => child.warn(text(parts)),
    error: (...parts) => child.error(text(parts)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
