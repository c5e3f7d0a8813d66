import type { BatchRef, BreakGlass, FollowUpRef, ThreadRef } from '../request.js';
import type { Plan } from '../types.js';

/** What a queued rollback carries: the plan pinned at approval, and who decided. */
export interface RollbackJobData {
  requestId: string;
  plan: Plan;
  requester: string;
  approver: string;
  approvedAt: number;
  /** The requester approved it themselves after no approver acted: the notice and the thread say so. */
  breakGlass?: BreakGlass | undefined;
  reason: string;
  thread?: ThreadRef | undefined;
  /** The notice was still on its way to Slack when the job was queued: its thread will be in the store. */
  threadPending?: boolean | undefined;
  /** Set when this job is a follow-up (a migration revert), not the rollback itself. */
  followUp?: FollowUpRef | undefined;
  /** Set when this job is one target of a multi-target request: its steps are labelled, the batch is summed up. */
  batch?: BatchRef | undefined;
}

/** Where a request's job is: waiting for a worker, run by one, ended, or nowhere (never queued, or removed). */
export type JobState = 'waiting' | 'active' | 'ended' | 'missing';

/** Hands an approved rollback to whoever runs it (a BullMQ queue in production). */
export interface JobQueue {
  /**
   * Queues the job for any worker, or with `dedicated` for the one process that runs its own request (the
   * CLI): no worker of another configuration ever takes it.
   */
  enqueue(job: RollbackJobData, options?: { dedicated?: boolean }): Promise<void>;
  /**
   * Queues the jobs of one multi-target request. On the shared queue all are added in one step or none; with
   * `dedicated` each goes to its own request's queue, one after the other (the caller undoes the approvals
   * when one fails, and a job whose request is no longer approved does nothing).
   */
  enqueueAll(jobs: readonly RollbackJobData[], options?: { dedicated?: boolean }): Promise<void>;
  jobState(requestId: string): Promise<JobState>;
  /**
   * Whether what was written so far (the approval, its job) is on a replica as well: a failover promotes a
   * replica, and a write the old master acknowledged but had not yet copied is lost with it. `no-replica`:
   * nothing to copy to (one Redis). Optional: a queue without replicas need not say.
   */
  copied?(): Promise<CopyState>;
}

export type CopyState = 'copied' | 'not-copied' | 'no-replica';
