import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { Rules, TargetApproval, TargetConfig } from '../core/config-types.js';
import { formatDuration } from '../core/duration.js';
import { RollbackError } from '../core/errors.js';
import { closestName } from '../core/names.js';
import type { DriverEnvironment } from '../core/ports/driver.js';
import { descriptorOf, drivers } from '../drivers/registry.js';
import type { DriverModule } from '../drivers/types.js';
import { duplicateKeyProblems } from './duplicate-keys.js';
import { type Env, envSchema } from './env.js';
import { type RedisSettings, redisPairingProblems, redisSettingsOf } from './redis-settings.js';
import {
  type GroupEntry,
  rollbackFileSchema,
  TARGET_APPROVAL_KEYS,
  type targetApprovalSchema,
} from './rollback-file.js';

type TargetApprovalEntry = z.output<typeof targetApprovalSchema>;

export type Mode = 'all' | 'app' | 'worker';

export interface Config {
  mode: Mode;
  slack: {
    botToken: string;
    signingSecret: string | undefined;
    appToken: string | undefined;
    apiUrl: string | undefined;
    socketMode: boolean;
    port: number;
  };
  /** API_TOKEN: the bearer token of the HTTP API (the deploy gate); unset, the API is off. */
  apiToken: string | undefined;
  /** METRICS_TOKEN: when set, GET /metrics needs it as a bearer token; unset, /metrics is open like the probes. */
  metricsToken: string | undefined;
  /** REDIS_URL, or the Sentinels (REDIS_SENTINELS, REDIS_SENTINEL_MASTER), and the passwords. */
  redis: RedisSettings;
  /** Starts every Redis key, BullMQ's too, so several bots can share one Redis. */
  redisPrefix: string;
  /** Where cached clones for revert branches live. */
  gitCacheDir: string;
  logLevel: Env['LOG_LEVEL'];
  /** How many rollbacks one worker process runs at once (WORKER_CONCURRENCY). */
  workerConcurrency: number;
  /** RR_WORKER_LOCK_MS: how long a worker's hold on a running job lasts unrenewed (bot and CLI); unset: 10 s. */
  workerLockMs: number | undefined;
  configFile: string;
  rules: Rules;
  targets: TargetConfig[];
  /** rollback.yml's `groups:`: each group's targets, in the file's order (all known targets, no name shared). */
  groups: Record<string, string[]>;
  /**
   * The groups written with approval settings (`checkout: { targets: […], approvers: […] }`), by name: pass one
   * as approvalScopes' `group` so a request on the group also needs one of its approvers.
   */
  groupApproval: Record<string, TargetApproval>;
  driverEnvironment: DriverEnvironment;
}

/**
 * The break-glass CLI's configuration: without SLACK_BOT_TOKEN it still works (the CLI is for when Slack is down,
 * and a pipeline's gate needs no Slack app), and says what Slack was not told.
 */
export type CliConfig = Omit<Config, 'slack'> & { slack: Config['slack'] | undefined };

interface LoadOptions {
  mode?: Mode;
  file?: string | undefined;
}

export class ConfigError extends RollbackError {
  constructor(readonly problems: string[]) {
    super('CONFIG_INVALID', problems.join('\n'));
    this.name = 'ConfigError';
  }
}

function describeIssues(prefix: string, error: z.ZodError, base: readonly string[] = []): string[] {
  return error.issues.map((issue) => {
    const path = [...base, ...issue.path.map(String)].join('.');
    return `${prefix}${path ? `${path}: ` : ''}${issue.message}`;
  });
}

/**
 * Reads the environment and rollback.yml once, at start-up, and fails fast with one line per problem
 * that names the setting and says how to fix it.
 */
export function loadConfig(env?: NodeJS.ProcessEnv, options?: LoadOptions & { slack?: 'required' }): Config;
/** `slack: 'optional'`: SLACK_BOT_TOKEN may be unset (the CLI); `slack` is then undefined. */
export function loadConfig(env: NodeJS.ProcessEnv, options: LoadOptions & { slack: 'optional' }): CliConfig;
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions & { slack?: 'required' | 'optional' } = {},
): CliConfig {
  const mode = options.mode ?? 'all';
  // An empty value (`SLACK_APP_TOKEN=` in a .env file) means "not set", as people expect.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const schema =
    options.slack === 'optional'
      ? envSchema.extend({ SLACK_BOT_TOKEN: envSchema.shape.SLACK_BOT_TOKEN.optional() })
      : envSchema;
  const parsedEnv = schema.safeParse(present);
  // Report every problem at once: at 3 a.m. nobody wants to fix one line, restart, and find the next.
  const problems = parsedEnv.success ? [] : describeIssues('', parsedEnv.error);
  problems.push(...redisPairingProblems(present));
  const socketMode = Boolean(present.SLACK_APP_TOKEN);
  if (mode !== 'worker' && !socketMode && !present.SLACK_SIGNING_SECRET) {
    problems.push(
      'SLACK_SIGNING_SECRET is missing: copy the Signing Secret from the Slack app (Basic Information > App Credentials), or set SLACK_APP_TOKEN (xapp-…) to use Socket Mode instead of HTTP.',
    );
  }
  const file = options.file ?? present.ROLLBACK_CONFIG ?? './rollback.yml';
  const fastlyToken = present.FASTLY_API_TOKEN;
  const driverEnvironment: DriverEnvironment = {
    fastly: fastlyToken
      ? { token: fastlyToken, baseUrl: parsedEnv.data?.FASTLY_API_URL ?? 'https://api.fastly.com' }
      : undefined,
    helmBin: present.HELM_BIN ?? 'helm',
    kubeconfig: present.KUBECONFIG,
  };
  let rollbackFile: ReturnType<typeof readRollbackFile> | undefined;
  try {
    rollbackFile = readRollbackFile(file, driverEnvironment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || !parsedEnv.success || !rollbackFile) throw new ConfigError(problems);
  const e = parsedEnv.data;
  const { rules, targets, groups, groupApproval } = rollbackFile;

  return {
    mode,
    slack:
      e.SLACK_BOT_TOKEN === undefined
        ? undefined
        : {
            botToken: e.SLACK_BOT_TOKEN,
            signingSecret: e.SLACK_SIGNING_SECRET,
            appToken: e.SLACK_APP_TOKEN,
            apiUrl: e.SLACK_API_URL,
            socketMode,
            port: e.PORT,
          },
    apiToken: e.API_TOKEN,
    metricsToken: e.METRICS_TOKEN,
    redis: redisSettingsOf(e),
    redisPrefix: e.REDIS_PREFIX,
    gitCacheDir: resolve(e.GIT_CACHE_DIR),
    logLevel: e.LOG_LEVEL,
    workerConcurrency: e.WORKER_CONCURRENCY,
    workerLockMs: e.RR_WORKER_LOCK_MS,
    configFile: resolve(file),
    rules,
    targets,
    groups,
    groupApproval,
    driverEnvironment,
  };
}

function readRollbackFile(
  file: string,
  driverEnvironment: DriverEnvironment,
): {
  rules: Rules;
  targets: TargetConfig[];
  groups: Record<string, string[]>;
  groupApproval: Record<string, TargetApproval>;
} {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError([
      `${file} not found: copy rollback.example.yml to rollback.yml and name your targets, or point ROLLBACK_CONFIG at your file.`,
    ]);
  }
  // A key written twice (a target named twice) is an error, not a silent overwrite, said with both lines.
  const lines = new LineCounter();
  const document = parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter: lines });
  if (document.errors.length > 0) {
    throw new ConfigError(document.errors.map((err) => `${file}: ${err.message.split('\n')[0]}`));
  }
  const duplicates = duplicateKeyProblems(document, lines, file);
  if (duplicates.length > 0) throw new ConfigError(duplicates);
  const { rest, blocks, problems } = takeSharedBlocks(file, document.toJS());
  const parsed = rollbackFileSchema.safeParse(rest);
  if (!parsed.success) throw new ConfigError([...describeIssues(`${file}: `, parsed.error), ...problems]);

  const targets: TargetConfig[] = [];
  const needed = new Set<string>();
  for (const [name, raw] of Object.entries(parsed.data.targets)) {
    const driver = descriptorOf(raw.kind);
    if (!driver) {
      const known = drivers.map((d) => d.kind).join(', ');
      problems.push(`${file}: targets.${name}.kind: unknown kind "${raw.kind}"; known kinds: ${known}`);
      continue;
    }
    const { alerts, ...entryWithoutAlerts } = raw;
    const { approval, providerEntry } = takeApproval(entryWithoutAlerts);
    const entry = withSharedBlocks(providerEntry, driver, blocks, (key, takers) =>
      problems.push(
        `${file}: targets.${name}.${key}: applies only to ${takers.map((d) => d.displayName).join(' and ')} targets (kind ${takers.map((d) => d.kind).join(' or ')}), and ${name} is kind ${driver.kind}: remove it`,
      ),
    );
    const settings = driver.targetSchema.safeParse(entry);
    if (!settings.success) {
      problems.push(...describeIssues(`${file}: targets.${name}.`, settings.error));
      continue;
    }
    const missing = driver.requiredEnv(driverEnvironment);
    if (missing) needed.add(missing);
    const own = (settings.data as { driftCheckEvery?: number }).driftCheckEvery;
    targets.push({
      name,
      kind: driver.kind,
      settings: settings.data as Record<string, unknown>,
      driftCheckEveryMs: own ?? parsed.data.driftCheckEvery,
      ...(approval ? { approval } : {}),
      alerts: { match: alerts?.match, proposeWithinMs: alerts?.proposeWithin ?? parsed.data.alerts.proposeWithin },
    });
  }
  if (targets.length === 0 && problems.length === 0) problems.push(`${file}: targets: name at least one target`);
  problems.push(...breakGlassProblems(file, parsed.data));
  const groups = Object.fromEntries(Object.entries(parsed.data.groups).map(([name, group]) => [name, group.targets]));
  problems.push(...groupProblems(file, groups, Object.keys(parsed.data.targets)));
  problems.push(...needed);
  if (problems.length > 0) throw new ConfigError(problems);

  const { incidentChannel, approvers, allowSelfApproval, requestTtl, selfApprovalAfter } = parsed.data;
  return {
    rules: {
      incidentChannel,
      approvers,
      allowSelfApproval,
      requestTtlMs: requestTtl,
      ...(selfApprovalAfter ? { selfApprovalAfterMs: selfApprovalAfter } : {}),
    },
    targets,
    groups,
    groupApproval: groupApprovalOf(parsed.data.groups),
  };
}

/** The groups that list approval settings of their own, by name. */
function groupApprovalOf(groups: Record<string, GroupEntry>): Record<string, TargetApproval> {
  const approval: Record<string, TargetApproval> = {};
  for (const [name, entry] of Object.entries(groups)) {
    const own = ownApproval(entry);
    if (own) approval[name] = own;
  }
  return approval;
}

/** The approval settings an entry (a target's, a group's) lists, or undefined when it lists none. */
function ownApproval(entry: TargetApprovalEntry): TargetApproval | undefined {
  const { approvers, allowSelfApproval, selfApprovalAfter } = entry;
  if (approvers === undefined && allowSelfApproval === undefined && selfApprovalAfter === undefined) return undefined;
  return {
    approvers,
    allowSelfApproval,
    ...(selfApprovalAfter === undefined ? {} : { selfApprovalAfterMs: selfApprovalAfter }),
  };
}

/** A request expires after requestTtl: a selfApprovalAfter as long or longer would never let its requester approve. */
function breakGlassProblems(
  file: string,
  data: {
    requestTtl: number;
    selfApprovalAfter?: number | false | undefined;
    targets: Record<string, TargetApprovalEntry>;
  },
): string[] {
  const entries: Array<[string, number | false | undefined]> = [
    ['selfApprovalAfter', data.selfApprovalAfter],
    ...Object.entries(data.targets).map(([name, t]): [string, number | false | undefined] => [
      `targets.${name}.selfApprovalAfter`,
      t.selfApprovalAfter,
    ]),
  ];
  return entries
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] >= data.requestTtl)
    .map(
      ([path, ms]) =>
        `${file}: ${path}: ${formatDuration(ms)} is not shorter than requestTtl (${formatDuration(data.requestTtl)}), so a request would expire before its requester could approve it; shorten it or lengthen requestTtl`,
    );
}

/** Group and target names share one namespace (`/rollback <name>`), and a group names only known targets. */
function groupProblems(file: string, groups: Record<string, string[]>, targetNames: string[]): string[] {
  const problems: string[] = [];
  for (const [group, members] of Object.entries(groups)) {
    if (targetNames.includes(group)) {
      problems.push(`${file}: groups.${group}: a target is named ${group} too; rename the group`);
    }
    members.forEach((member, index) => {
      if (targetNames.includes(member)) return;
      const hint = closestName(member, targetNames);
      const known = hint ? `did you mean ${hint}?` : `known targets: ${targetNames.join(', ')}`;
      problems.push(`${file}: groups.${group}.${index}: "${member}" is not a target in this file; ${known}`);
    });
    const twice = members.filter((member, index) => members.indexOf(member) !== index);
    if (twice.length > 0) problems.push(`${file}: groups.${group}: ${twice[0]} is named twice`);
  }
  return problems;
}

/**
 * A target's entry split in two: its approval settings (already checked by the file's schema) and the rest,
 * for its driver's schema, which knows nothing of who approves.
 */
function takeApproval(raw: Record<string, unknown> & TargetApprovalEntry): {
  approval: TargetApproval | undefined;
  providerEntry: Record<string, unknown>;
} {
  const providerEntry: Record<string, unknown> = { ...raw };
  for (const key of TARGET_APPROVAL_KEYS) delete providerEntry[key];
  return { approval: ownApproval(raw), providerEntry };
}

/** Top-level blocks some kinds take as defaults for their targets (DriverModule.sharedSettings), by key. */
function sharedSettings(): Map<string, { schema: z.ZodType; takers: DriverModule[] }> {
  const shared = new Map<string, { schema: z.ZodType; takers: DriverModule[] }>();
  for (const driver of drivers) {
    for (const [key, schema] of Object.entries(driver.sharedSettings ?? {})) {
      const known = shared.get(key);
      if (known) known.takers.push(driver);
      else shared.set(key, { schema, takers: [driver] });
    }
  }
  return shared;
}

/**
 * Takes the shared blocks (`gitops:`) off the top of rollback.yml, each checked by its own schema, so that the
 * file's schema needs to know no provider's settings. A block with problems is reported and not used.
 */
function takeSharedBlocks(
  file: string,
  input: unknown,
): { rest: unknown; blocks: Map<string, unknown>; problems: string[] } {
  const blocks = new Map<string, unknown>();
  const problems: string[] = [];
  if (!isPlainObject(input)) return { rest: input, blocks, problems };
  const rest = { ...input };
  for (const [key, { schema }] of sharedSettings()) {
    if (!(key in rest)) continue;
    const value = rest[key];
    delete rest[key];
    const checked = schema.safeParse(value);
    if (checked.success) blocks.set(key, value);
    else problems.push(...describeIssues(`${file}: `, checked.error, [key]));
  }
  return { rest, blocks, problems };
}

/**
 * One target's entry with the shared blocks its kind takes filled in (its own fields win, field by field); a
 * shared block on a target whose kind does not take it is reported through `refuse` and left out.
 */
function withSharedBlocks(
  entry: Record<string, unknown>,
  driver: DriverModule,
  blocks: Map<string, unknown>,
  refuse: (key: string, takers: DriverModule[]) => void,
): Record<string, unknown> {
  const result = { ...entry };
  for (const [key, { takers }] of sharedSettings()) {
    const takes = key in (driver.sharedSettings ?? {});
    if (!takes) {
      if (key in result) {
        refuse(key, takers);
        delete result[key];
      }
      continue;
    }
    if (blocks.has(key)) result[key] = fieldByField(blocks.get(key), result[key]);
  }
  return result;
}

/** `own` over `base`: objects merged key by key, anything else replaced. */
function fieldByField(base: unknown, own: unknown): unknown {
  if (own === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(own)) return own;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(own)) merged[key] = fieldByField(base[key], value);
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The Redis settings alone, for `doctor` when the rest of the configuration does not load; undefined when
 * they are themselves wrong (the config check says how).
 */
export function redisSettingsFromEnv(env: NodeJS.ProcessEnv): RedisSettings | undefined {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const redisEnv = envSchema
    .pick({
      REDIS_URL: true,
      REDIS_PASSWORD: true,
      REDIS_SENTINELS: true,
      REDIS_SENTINEL_MASTER: true,
      REDIS_SENTINEL_PASSWORD: true,
    })
    .safeParse(present);
  if (!redisEnv.success || redisPairingProblems(present).length > 0) return undefined;
  return redisSettingsOf(redisEnv.data);
}
