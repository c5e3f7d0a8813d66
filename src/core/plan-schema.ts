import { z } from 'zod';
import { planChangeSchema } from './changes-schema.js';
import type { BatchRef, FollowUpRef } from './request.js';
import type { Ref, Suggestion, Text } from './text.js';
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
  changes: z.array(planChangeSchema).optional(),
}) satisfies z.ZodType<Plan>;

export const followUpSchema = z.object({
  id: z.string(),
  label: z.string(),
  description: z.string(),
  parentId: z.string(),
}) satisfies z.ZodType<FollowUpRef>;

export const batchRefSchema = z.object({
  id: z.string(),
  name: z.string(),
  size: z.number().int().positive(),
}) satisfies z.ZodType<BatchRef>;

export const rollbackRecordSchema = z.object({
  requestId: z.string(),
  target: z.string(),
  from: versionSchema,
  to: versionSchema,
  at: z.string(),
  by: z.string(),
}) satisfies z.ZodType<RollbackRecord>;

const suggestionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('plan'), target: z.string() }),
  z.object({ action: z.literal('rollback-to'), target: z.string(), version: z.string() }),
  z.object({ action: z.literal('status') }),
  z.object({ action: z.literal('history'), target: z.string().optional() }),
  z.object({ action: z.literal('resume'), requestId: z.string() }),
  z.object({ action: z.literal('unfreeze'), target: z.string() }),
  z.object({ action: z.literal('freeze'), target: z.string() }),
]) satisfies z.ZodType<Suggestion>;

const refSchema = z.discriminatedUnion('ref', [
  z.object({ ref: z.literal('person'), id: z.string() }),
  z.object({ ref: z.literal('group'), id: z.string() }),
  z.object({ ref: z.literal('channel'), id: z.string() }),
  z.object({ ref: z.literal('command'), command: suggestionSchema }),
]) satisfies z.ZodType<Ref>;

/** Core's words with their references, as the incident record keeps them in Redis. */
export const textSchema = z.object({ parts: z.array(z.union([z.string(), refSchema])) }) satisfies z.ZodType<Text>;
