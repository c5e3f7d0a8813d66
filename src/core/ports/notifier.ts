import type { RollbackBatch } from '../batch.js';
import type { RollbackError } from '../errors.js';
import type { RollbackRequest, ThreadRef } from '../request.js';

/** What telling the incident channel came to: where the rollback's steps go, and what went wrong, if anything. */
export interface Announcement {
  /** The thread the steps go to; none when no channel let the front end post. */
  thread?: ThreadRef | undefined;
  /** Why the notice is not where it should be (a private channel, Slack down); the rollback goes on. */
  problem?: RollbackError | undefined;
}

/**
 * How a front end tells people a rollback is starting (the runbook's "notify the team first"): Slack posts the
 * "Rolling back" notice in the incident channel; the CLI does the same when Slack answers. Implementations
 * never reject: a notice that cannot be posted is an Announcement with a problem, never a stopped rollback.
 */
export interface Notifier {
  announce(request: RollbackRequest): Promise<Announcement>;
  /** One notice for a multi-target request, naming each target's restored version; its thread carries every member's steps. */
  announceBatch(batch: RollbackBatch, requests: readonly RollbackRequest[]): Promise<Announcement>;
  /** Says in the announcement's thread that the rollback did not start, and why. */
  notStarted(thread: ThreadRef, error: RollbackError): Promise<void>;
}
