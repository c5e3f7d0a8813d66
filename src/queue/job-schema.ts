import { z } from 'zod';
import { batchRefSchema, followUpSchema, planSchema } from '../core/plan-schema.js';
import type { RollbackJobData } from '../core/ports/queue.js';

/** A job's data crosses Redis: parse it on the way out as any outside input. */
export const rollbackJobSchema = z.object({
  requestId: z.string().regex(/^[^:]+$/, 'job ids cannot contain ":"'),
  plan: planSchema,
  requester: z.string(),
  approver: z.string(),
  approvedAt: z.number(),
  breakGlass: z.object({ afterMs: z.number(), approvers: z.array(z.string()) }).optional(),
  reason: z.string(),
  followUp: followUpSchema.optional(),
  batch: batchRefSchema.optional(),
  threadPending: z.boolean().optional(),
  thread: z.object({ channel: z.string(), ts: z.string(), root: z.enum(['notice', 'request']).optional() }).optional(),
}) satisfies z.ZodType<RollbackJobData>;

export const QUEUE_NAME = 'rollbacks';
export const JOB_NAME = 'rollback';

/** The queue only the process running this one request works on (the CLI's own rollback). */
export function dedicatedQueueName(requestId: string): string {
  return `${QUEUE_NAME}-for-${requestId}`;
}
