import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { RESERVED_TARGET_NAMES } from '../core/names.js';

export const TARGET_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const LONGEST_TARGET_NAME = 63;

/** Why `name` cannot be a target name, in a few words with one that could be; undefined when it can. */
function targetNameProblem(name: string): string | undefined {
  if (RESERVED_TARGET_NAMES.includes(name)) {
    return `"${name}" is a reserved word (/rollback ${name}); reserved: ${RESERVED_TARGET_NAMES.join(', ')}`;
  }
  if (TARGET_NAME.test(name)) return undefined;
  const likely = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, LONGEST_TARGET_NAME);
  const example = TARGET_NAME.test(likely) && !RESERVED_TARGET_NAMES.includes(likely) ? ` (e.g. ${likely})` : '';
  return name.length > LONGEST_TARGET_NAME && /^[a-z0-9][a-z0-9._-]*$/.test(name)
    ? `target names are at most ${LONGEST_TARGET_NAME} characters${example}`
    : `target names are lower-case letters, digits, ".", "_" and "-"${example}`;
}

/** "90s", "15m", "1h" in rollback.yml, as milliseconds. */
export const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write it like 90s, 15m or 1h` });
    return z.NEVER;
  }
  return ms;
});

/** `driftCheckEvery`: how often a frozen target's live version is read again; at least 1 s. */
export const driftIntervalSchema = durationSchema.refine((ms) => ms >= 1_000, {
  message: 'must be at least 1s: the drift watch reads the provider this often while a target is frozen',
});

/** DRIFT_CHECK_EVERY's default: 30 s. */
export const DEFAULT_DRIFT_CHECK_MS = 30_000;

/** proposeWithin's default: an alert that starts more than 30 minutes after a deploy is not blamed on it. */
const DEFAULT_PROPOSE_WITHIN_MS = 30 * 60_000;

/** `alerts:` at the top of rollback.yml: the default window for every target. */
const fileAlertsSchema = z
  .object({ proposeWithin: durationSchema.default(DEFAULT_PROPOSE_WITHIN_MS) })
  .strict()
  .default({ proposeWithin: DEFAULT_PROPOSE_WITHIN_MS });

/**
 * `alerts:` in a target's entry: the labels an alert must carry to be about it (besides `rollback_target: <name>`,
 * which every target answers to), and its own window. The core's, not a provider's: taken off the entry before its
 * driver's schema sees it.
 */
const targetAlertsSchema = z
  .object({
    match: z
      .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name'), z.string(), {
        error: (issue) =>
          issue.code === 'invalid_key' ? issue.issues[0]?.message : 'must map label names to values: { service: www }',
      })
      .refine((labels) => Object.keys(labels).length > 0, 'must name at least one label')
      .optional(),
    proposeWithin: durationSchema.optional(),
  })
  .strict();

const approverListSchema = z
  .array(z.string().regex(/^[UWS][A-Z0-9]{2,}$/, 'must be a Slack user ID (U…/W…) or user-group ID (S…)'), {
    error: 'is required: a list of Slack user IDs (U…) or user-group IDs (S…) who may approve',
  })
  .min(1, 'must name at least one approver');

/**
 * `selfApprovalAfter`: how long a request waits for an approver before its requester may approve it
 * (break-glass); `off` (or false) turns it off, e.g. for one target when the file sets it. At least 1s.
 */
const selfApprovalAfterSchema = z.unknown().transform((value, ctx): number | false => {
  if (value === false || value === 'off') return false;
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined || ms < 1_000) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not a duration of at least 1s; write it like 10m, or off`,
    });
    return z.NEVER;
  }
  return ms;
});

/**
 * The approval settings a target's entry may carry (they replace the file's for that target). They are the
 * core's, not a provider's: load-config takes them off the entry before its driver's schema sees it.
 */
export const targetApprovalSchema = z.object({
  approvers: approverListSchema.optional(),
  allowSelfApproval: z.boolean().optional(),
  selfApprovalAfter: selfApprovalAfterSchema.optional(),
});

/** The keys of targetApprovalSchema, as written in rollback.yml. */
export const TARGET_APPROVAL_KEYS = ['approvers', 'allowSelfApproval', 'selfApprovalAfter'] as const;

const groupTargetsSchema = z
  .array(z.string(), { error: 'must be a list of target names, e.g. [cdn, api]' })
  .min(1, 'must name at least one target');

// Not selfApprovalAfter: a request on several targets is never self-approved by break-glass.
const richGroupSchema = z
  .object({
    targets: groupTargetsSchema,
    approvers: targetApprovalSchema.shape.approvers,
    allowSelfApproval: targetApprovalSchema.shape.allowSelfApproval,
  })
  .strict();

/** A group as the core reads it: its targets, and the approval settings it lists (for all of them at once). */
export interface GroupEntry {
  targets: string[];
  approvers?: string[] | undefined;
  allowSelfApproval?: boolean | undefined;
}

/**
 * A group: its targets as a list (`checkout: [cdn, api]`), or with approval settings of its own
 * (`checkout: { targets: [cdn, api], approvers: [S0PAY] }`). The list form's problems keep the list's paths.
 */
const groupSchema = z.unknown().transform((value, ctx): GroupEntry => {
  const rich = !Array.isArray(value) && typeof value === 'object' && value !== null;
  if (rich && 'selfApprovalAfter' in value) {
    ctx.addIssue({
      code: 'custom',
      message:
        "break-glass is for a request on one target; a group's request always needs an approver. Set selfApprovalAfter on its targets (or the file) instead",
      path: ['selfApprovalAfter'],
    });
    return z.NEVER;
  }
  const checked = rich ? richGroupSchema.safeParse(value) : groupTargetsSchema.safeParse(value);
  if (!checked.success) {
    for (const issue of checked.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[] });
    return z.NEVER;
  }
  return Array.isArray(checked.data) ? { targets: checked.data } : (checked.data as GroupEntry);
});

/**
 * rollback.yml without its targets' provider-specific fields: each target is checked afterwards
 * by its driver's own schema (drivers/<kind>/), so a new provider needs no change here.
 */
export const rollbackFileSchema = z
  .object({
    incidentChannel: z
      .string({ error: 'is required: the channel ID (C…) or #name where the "Rolling back" notice and its thread go' })
      .regex(/^([CG][A-Z0-9]{2,}|#[a-z0-9][a-z0-9._-]*)$/, 'must be a channel ID such as C0123INCIDENT or a #name'),
    approvers: approverListSchema,
    allowSelfApproval: z.boolean().default(false),
    selfApprovalAfter: selfApprovalAfterSchema.optional(),
    requestTtl: durationSchema.default(15 * 60_000),
    driftCheckEvery: driftIntervalSchema.default(DEFAULT_DRIFT_CHECK_MS),
    /** Alertmanager's alerts: how soon after a deploy an alert proposes rolling it back (targets may set their own). */
    alerts: fileAlertsSchema,
    targets: z.record(
      z.string().superRefine((name, ctx) => {
        const problem = targetNameProblem(name);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
      z.looseObject({
        kind: z.string({ error: 'is required (fastly)' }),
        ...targetApprovalSchema.shape,
        alerts: targetAlertsSchema.optional(),
      }),
      {
        // A bad target name is a key issue: its own message says what is wrong, not this one.
        error: (issue) =>
          issue.code === 'invalid_key' ? issue.issues[0]?.message : 'is required: a map of target names to providers',
      },
    ),
    /** Several targets under one name: `/rollback checkout` asks for all of them with one approval. */
    groups: z
      .record(
        z.string().superRefine((name, ctx) => {
          const problem = targetNameProblem(name);
          if (problem) ctx.addIssue({ code: 'custom', message: problem.replace('target names', 'group names') });
        }),
        groupSchema,
        {
          error: (issue) =>
            issue.code === 'invalid_key' ? issue.issues[0]?.message : 'must be a map of group names to target lists',
        },
      )
      .default({}),
  })
  .strict();
