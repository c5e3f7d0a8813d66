import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobQueue } from '../core/rollback-service.js';
import type { RollbackJobData } from '../core/run-rollback.js';
import { JOB_NAME, QUEUE_NAME, rollbackJobSchema } from './job-schema.js';

export interface QueueOptions {
  connection: Redis;
  /** BullMQ key prefix; tests use a unique one per file. */
  prefix?: string;
}

/**
 * The producer side. The job id is the request id, so a second enqueue of the same request (a double
 * click, a Slack retry) is a no-op in BullMQ: one approval, one job. No automatic retries: a rollback
 * that failed is looked at by a person, never run again blindly.
 */
export class RollbackQueue implements JobQueue {
  readonly queue: Queue;

  constructor(options: QueueOptions) {
    this.queue = new Queue(QUEUE_NAME, { connection: options.connection, prefix: options.prefix ?? 'bull' });
  }

  async enqueue(job: RollbackJobData): Promise<void> {
    const data = rollbackJobSchema.parse(job);
    await this.queue.add(JOB_NAME, data, {
      jobId: data.requestId,
      attempts: 1,
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    });
  }

  async isQueued(requestId: string): Promise<boolean> {
    return (await this.queue.getJob(requestId)) !== undefined;
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
