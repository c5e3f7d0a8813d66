import { z } from 'zod';
import type { CommitOut, DiffObject, PlanChange, PodTemplateDifference } from './changes.js';

const diffObjectSchema = z.object({ type: z.string(), name: z.string() }) satisfies z.ZodType<DiffObject>;

const podTemplateDifferenceSchema = z.union([
  z.object({ container: z.string(), field: z.literal('container'), change: z.enum(['added', 'removed']) }),
  z.object({
    container: z.string(),
    field: z.enum(['image', 'resources', 'command', 'args']),
    from: z.string(),
    to: z.string(),
  }),
  z.object({
    container: z.string(),
    field: z.literal('env'),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
  }),
]) satisfies z.ZodType<PodTemplateDifference>;

const commitOutSchema = z.object({
  sha: z.string(),
  subject: z.string(),
  author: z.string(),
}) satisfies z.ZodType<CommitOut>;

/** A plan's changes cross Redis with the plan (plan-schema.ts). */
export const planChangeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('config-diff'),
    added: z.number().int().nonnegative(),
    removed: z.number().int().nonnegative(),
    objects: z.array(diffObjectSchema),
    moreObjects: z.number().int().nonnegative().optional(),
  }),
  z.object({
    kind: z.literal('values-keys'),
    keys: z.array(z.string()),
    more: z.number().int().nonnegative().optional(),
  }),
  z.object({ kind: z.literal('pod-template'), differences: z.array(podTemplateDifferenceSchema) }),
  z.object({
    kind: z.literal('commits'),
    repo: z.string(),
    commits: z.array(commitOutSchema),
    more: z.number().int().nonnegative(),
  }),
  z.object({ kind: z.literal('unavailable'), about: z.string(), reason: z.string() }),
]) satisfies z.ZodType<PlanChange>;
