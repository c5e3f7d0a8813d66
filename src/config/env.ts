import { z } from 'zod';
import { sentinelListSchema } from './redis-settings.js';

const SLACK_APP_HELP =
  'create the Slack app from manifest.yml (api.slack.com/apps > Create New App > From a manifest) and install it to your workspace';

/** WORKER_CONCURRENCY's default: rollbacks one worker process runs at once. */
export const DEFAULT_WORKER_CONCURRENCY = 32;

/**
 * RR_WORKER_LOCK_MS's floor: a worker renews its hold on a running job every half of it, and below this a busy
 * event loop would lose jobs it is still running.
 */
const MIN_WORKER_LOCK_MS = 200;
const WORKER_LOCK_HELP = `must be a whole number of milliseconds, at least ${MIN_WORKER_LOCK_MS} (unset: 10000)`;

/** The process environment the bot reads; every setting is documented in the README. */
export const envSchema = z.object({
  SLACK_BOT_TOKEN: z
    .string({
      error: `is missing: ${SLACK_APP_HELP}, then copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions`,
    })
    .regex(/^xoxb-/, 'must be a bot token starting with xoxb- (OAuth & Permissions > Bot User OAuth Token)'),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(
      /^xapp-/,
      'must be an app-level token starting with xapp- (Basic Information > App-Level Tokens, scope connections:write)',
    )
    .optional(),
  SLACK_API_URL: z.url({ error: 'must be a URL such as https://slack.com/api/' }).optional(),
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65_535).default(3000),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0')
    .default('redis://127.0.0.1:6379'),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_SENTINELS: sentinelListSchema.optional(),
  REDIS_SENTINEL_MASTER: z
    .string()
    .regex(
      /^[A-Za-z0-9._-]{1,64}$/,
      "must be the master's name as the Sentinels know it (`sentinel monitor <name> …`), e.g. mymaster",
    )
    .optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be letters, digits, "_" or "-" (it starts every Redis key the bot writes)')
    .default('rr'),
  ROLLBACK_CONFIG: z.string().min(1).default('./rollback.yml'),
  API_TOKEN: z
    .string()
    .min(24, 'must be at least 24 characters: a long random secret, e.g. `openssl rand -hex 32`')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces (it is sent as `Authorization: Bearer <token>`)')
    .optional(),
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters: a random secret, e.g. `openssl rand -hex 24`')
    .regex(
      /^[\x21-\x7e]+$/,
      'must be printable ASCII without spaces (Prometheus sends it as `Authorization: Bearer <token>`)',
    )
    .optional(),
  FASTLY_API_TOKEN: z.string().min(1).optional(),
  FASTLY_API_URL: z.url({ error: 'must be a URL such as https://api.fastly.com' }).default('https://api.fastly.com'),
  KUBECONFIG: z.string().min(1).optional(),
  HELM_BIN: z.string().min(1).default('helm'),
  GIT_CACHE_DIR: z.string().min(1).default('./.cache/git'),
  WORKER_CONCURRENCY: z.coerce
    .number({ error: 'must be a whole number of rollbacks, e.g. 32' })
    .int('must be a whole number of rollbacks, e.g. 32')
    .min(1, 'must be at least 1')
    .max(256, 'must be at most 256 (each running rollback may hold a helm process and a Kubernetes watch)')
    .default(DEFAULT_WORKER_CONCURRENCY),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RR_WORKER_LOCK_MS: z.coerce
    .number({ error: WORKER_LOCK_HELP })
    .int(WORKER_LOCK_HELP)
    .min(MIN_WORKER_LOCK_MS, WORKER_LOCK_HELP)
    .optional(),
});

export type Env = z.infer<typeof envSchema>;
