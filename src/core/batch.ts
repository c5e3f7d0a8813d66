import type { BatchRef, BreakGlass, RequestOrigin, RequestState, RollbackRequest, ThreadRef } from './request.js';
import type { Plan } from './types.js';

/**
 * Several targets rolled back on one approval (`/rollback checkout`, `/rollback cdn api`): a batch of ordinary
 * requests, one per target, each with its own plan, lock, job, verification, record and freeze. The batch only
 * ties them together: one plan message, one Approve (every lock taken atomically, or none), one notice, one
 * thread, one summary.
 */
export interface RollbackBatch {
  id: string;
  /** The group's name, or the targets joined ("cdn + api"). */
  name: string;
  /** Set when the request named one group: its own approvers (if any) apply too. */
  group?: string | undefined;
  /** The member requests' ids, in the order of `targets`. */
  members: string[];
  targets: string[];
  reason: string;
  requester: string;
  origin: RequestOrigin;
  createdAt: number;
  expiresAt: number;
}

/** Durable batches. The members are requests in the RequestStore; this keeps what ties them together. */
export interface BatchStore {
  createBatch(batch: RollbackBatch): Promise<void>;
  getBatch(id: string): Promise<RollbackBatch | undefined>;
  setBatchOrigin(id: string, origin: RequestOrigin): Promise<void>;
  /**
   * Counts `requestId` as ended (once, however often a run reports it) and says how many members have ended.
   * Exactly one caller sees `ended === size`: the one that writes the summary.
   */
  memberEnded(id: string, requestId: string): Promise<{ ended: number; size: number; first: boolean }>;
}

export function newBatchId(now = Date.now()): string {
  const random = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  return `rbb-${now.toString(36)}-${random}`;
}

export const BATCH_ID = /^rbb-[a-z0-9]{6,12}-[a-z0-9]{6}$/;

/** One member as the summary tells it. */
interface BatchMemberOutcome {
  target: string;
  requestId: string;
  state: RequestState;
  plan: Pick<Plan, 'from' | 'to'>;
  approver?: string | undefined;
  breakGlass?: BreakGlass | undefined;
  outcome?: string | undefined;
}

/** How a batch ended, once every member has: the thread's last line and the notice's status. */
export interface BatchOutcome {
  batch: BatchRef;
  requester: string;
  reason: string;
  members: BatchMemberOutcome[];
  /** Members back on their restored versions, verified. */
  succeeded: number;
  /** From the approval to the last member's end. */
  elapsedMs: number;
}

export function batchOutcome(batch: BatchRef, members: readonly RollbackRequest[]): BatchOutcome {
  const first = members[0];
  const approvedAt = Math.min(...members.map((m) => m.approvedAt ?? m.createdAt));
  const endedAt = Math.max(...members.map((m) => m.finishedAt ?? m.closedAt ?? approvedAt));
  return {
    batch,
    requester: first?.requester ?? '',
    reason: first?.reason ?? '',
    members: members.map((m) => ({
      target: m.target,
      requestId: m.id,
      state: m.state,
      plan: { from: m.plan.from, to: m.plan.to },
      approver: m.approver,
      breakGlass: m.breakGlass,
      outcome: m.outcome,
    })),
    succeeded: members.filter((m) => m.state === 'succeeded').length,
    elapsedMs: Math.max(0, endedAt - approvedAt),
  };
}

/** Where a batch's summary goes (its thread, its notice); never rejects. */
export interface BatchReporter {
  ended(outcome: BatchOutcome, thread: ThreadRef | undefined): Promise<void>;
}
