import { z } from 'zod';
import type { RollbackJobData } from '../core/run-rollback.js';

const version = z.object({ id: z.string(), label: z.string(), description: z.string().optional(), restores: z.string().optional() });

/** A job's data crosses Redis: parse it on the way out as any outside input. */
export const rollbackJobSchema = z.object({
  requestId: z.string().regex(/^[^:]+$/, 'job ids cannot contain ":"'),
  plan: z.object({
    target: z.string(),
    kind: z.string(),
    resource: z.string(),
    from: version,
    to: version,
    selection: z.enum(['history', 'inferred', 'explicit']),
    notes: z.array(z.string()),
    steps: z.array(z.string()),
    budgetMs: z.number().positive(),
    actionDone: z.string(),
  }),
  requester: z.string(),
  approver: z.string(),
  approvedAt: z.number(),
  reason: z.string(),
  thread: z.object({ channel: z.string(), ts: z.string(), root: z.enum(['notice', 'request']).optional() }).optional(),
}) satisfies z.ZodType<RollbackJobData>;

export const QUEUE_NAME = 'rollbacks';
export const JOB_NAME = 'rollback';
