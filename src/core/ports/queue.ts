import type { RollbackJobData } from '../run-rollback.js';

/** Where a request's job is: waiting for a worker, run by one, ended, or nowhere (never queued, or removed). */
export type JobState = 'waiting' | 'active' | 'ended' | 'missing';

/** Hands an approved rollback to whoever runs it (a BullMQ queue in production). */
export interface JobQueue {
  /**
   * Queues the job for any worker, or with `dedicated` for the one process that runs its own request (the
   * CLI): no worker of another configuration ever takes it.
   */
  enqueue(job: RollbackJobData, options?: { dedicated?: boolean }): Promise<void>;
  jobState(requestId: string): Promise<JobState>;
}
