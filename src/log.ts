import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/**
 * Paths that may carry secrets anywhere in a log line. pino replaces them before serialising,
 * so a token handed to a logger by mistake never reaches stdout.
 */
const REDACT_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'signingSecret',
  '*.signingSecret',
  'apiToken',
  '*.apiToken',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["fastly-key"]',
  '*.headers["Fastly-Key"]',
  'headers["fastly-key"]',
  'env.SLACK_BOT_TOKEN',
  'env.SLACK_APP_TOKEN',
  'env.SLACK_SIGNING_SECRET',
  'env.FASTLY_API_TOKEN',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: 'rapid-rollback' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A logger that drops everything: for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
