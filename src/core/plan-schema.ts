import { z } from 'zod';
import type { FollowUpRef } from './request.js';
import type { Plan, RollbackRecord, VersionInfo } from './types.js';

/** Plans cross Redis twice (the request store, the job): both parse them with these. */
export const versionSchema = z.object({
  id: z.string(),
  label: z.string(),
  description: z.string().optional(),
  restores: z.string().optional(),
  images: z.array(z.string()).optional(),
  meta: z.record(z.string(), z.string()).optional(),
}) satisfies z.ZodType<VersionInfo>;

export const planSchema = z.object({
  target: z.string(),
  kind: z.string(),
  resource: z.string(),
  identity: z.string().optional(),
  from: versionSchema,
  to: versionSchema,
  selection: z.enum(['history', 'inferred', 'explicit']),
  notes: z.array(z.string()),
  steps: z.array(z.string()),
  budgetMs: z.number().positive(),
  actionDone: z.string(),
}) satisfies z.ZodType<Plan>;

export const followUpSchema = z.object({
  id: z.string(),
  label: z.string(),
  description: z.string(),
  parentId: z.string(),
}) satisfies z.ZodType<FollowUpRef>;

export const rollbackRecordSchema = z.object({
  requestId: z.string(),
  target: z.string(),
  from: versionSchema,
  to: versionSchema,
  at: z.string(),
  by: z.string(),
}) satisfies z.ZodType<RollbackRecord>;
