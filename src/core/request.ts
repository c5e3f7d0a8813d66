import { RollbackError } from './errors.js';
import type { TimelineStore } from './timeline.js';
import type { Plan, RollbackRecord } from './types.js';

/**
 * The life of a rollback request:
 *
 *   pending ──approve──▶ approved ──worker──▶ running ──▶ succeeded | failed | stale
 *      ├──cancel──▶ cancelled
 *      └──ttl─────▶ expired
 *
 * Only `pending` can be approved or cancelled, exactly once; the store enforces that atomically.
 */
export type RequestState =
  | 'pending'
  | 'approved'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'stale'
  | 'cancelled'
  | 'expired';

export const FINAL_STATES: readonly RequestState[] = ['succeeded', 'failed', 'stale', 'cancelled', 'expired'];

/** Where the request lives in the chat (or the CLI): enough to update it and to check a click came from it. */
export interface RequestOrigin {
  channel: string;
  messageTs?: string | undefined;
}

export interface ThreadRef {
  channel: string;
  ts: string;
  /** What the thread hangs under: the "Rolling back" notice (the usual case) or the request itself. */
  root?: 'notice' | 'request' | undefined;
}

/** What each member request of a multi-target request (a batch, core/batch.ts) and its job carry of it. */
export interface BatchRef {
  id: string;
  name: string;
  size: number;
}

/** A follow-up (e.g. a migration revert) asked for after a rollback; approved on its own. */
export interface FollowUpRef {
  id: string;
  label: string;
  description: string;
  /** The rollback request it follows. */
  parentId: string;
}

/**
 * A rollback its requester approved because no approver acted for `afterMs` (`selfApprovalAfter`, see
 * break-glass.ts): kept on the request and its job, so that the notice, the thread and the incident record say
 * so, naming the approvers who were asked.
 */
export interface BreakGlass {
  afterMs: number;
  approvers: string[];
}

export interface RollbackRequest {
  id: string;
  followUp?: FollowUpRef | undefined;
  /** Set when this request is one target of a multi-target request: approved, cancelled and announced with it. */
  batch?: BatchRef | undefined;
  target: string;
  plan: Plan;
  reason: string;
  requester: string;
  origin: RequestOrigin;
  createdAt: number;
  expiresAt: number;
  state: RequestState;
  approver?: string | undefined;
  approvedAt?: number | undefined;
  /** Set when the requester approved it themselves after no approver acted (selfApprovalAfter). */
  breakGlass?: BreakGlass | undefined;
  closedBy?: string | undefined;
  closedAt?: number | undefined;
  thread?: ThreadRef | undefined;
  startedAt?: number | undefined;
  /** When a run first reached the change itself (a follow-up's command): set once, never cleared. */
  actedAt?: number | undefined;
  finishedAt?: number | undefined;
  outcome?: string | undefined;
}

export type ApproveResult =
  | { ok: true; request: RollbackRequest }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'expired' | 'closed'; request: RollbackRequest }
  | { ok: false; reason: 'locked'; request: RollbackRequest; holder: string };

/** Several requests approved together (one approval for several targets): all of them, or none and the first refusal. */
export type ApproveAllResult =
  | { ok: true; requests: RollbackRequest[] }
  | { ok: false; id: string; refusal: Exclude<ApproveResult, { ok: true }> };

export type MarkRunningResult =
  | { ok: true; request: RollbackRequest }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'not-approved' | 'lock-lost'; request: RollbackRequest; holder: string | undefined };

export type CloseResult =
  | { ok: true; request: RollbackRequest }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'closed'; request: RollbackRequest };

/** Durable request state. Implementations must make approve/close atomic (one winner per request). */
export interface RequestStore extends TimelineStore {
  create(request: RollbackRequest): Promise<void>;
  get(id: string): Promise<RollbackRequest | undefined>;
  setOrigin(id: string, origin: RequestOrigin): Promise<void>;
  /**
   * pending → approved and take the target's lock, atomically. The lock has no expiry: it is held while the
   * request is approved or running, and freed when it ends (finish, abandon, unapprove).
   */
  approve(id: string, approver: string, now: number, breakGlass?: BreakGlass): Promise<ApproveResult>;
  /**
   * approve() for several requests of distinct targets at once: every request approved and every target's lock
   * taken, or nothing changed but the first refused request (an expired one is marked expired, as approve() does).
   */
  approveAll(ids: readonly string[], approver: string, now: number, breakGlass?: BreakGlass): Promise<ApproveAllResult>;
  /** approved → pending (forgetting who approved, break-glass included) and drop the lock: used when the job could not be queued, so nothing is left half-done. */
  unapprove(id: string): Promise<void>;
  /**
   * approved|running → failed with `outcome`, and drop the lock: for a request whose job is provably gone
   * (never queued, removed, or ended without finishing the request). False when it had moved on meanwhile.
   */
  abandon(id: string, outcome: string, now: number): Promise<boolean>;
  close(id: string, state: 'cancelled' | 'expired', by: string, now: number): Promise<CloseResult>;
  /** Where the rollback's steps go; `null`: nowhere in Slack (so a worker waiting for a thread stops waiting). */
  setThread(id: string, thread: ThreadRef | null): Promise<void>;
  /** Just where the steps go: the thread, `null` when none will come, `undefined` while not known yet. */
  thread(id: string): Promise<ThreadRef | null | undefined>;
  /**
   * approved|running → running, only while the request holds its target's lock; the request as it was
   * before. Refused (nothing written) for a request in any other state or whose lock another request holds.
   */
  markRunning(id: string, now: number): Promise<MarkRunningResult>;
  /**
   * Marks that a run is about to make the change (run a follow-up's command). True for the first run to
   * get here; false when an earlier run of the same approval did, so the change may already have happened.
   */
  markActing(id: string, now: number): Promise<boolean>;
  /**
   * One follow-up of each kind per rollback: reserves `kind` of `parentId` for `requestId` and returns
   * undefined, or returns the request that already holds it (unless that one ended without acting).
   */
  claimFollowUp(parentId: string, kind: string, requestId: string): Promise<string | undefined>;
  /** → succeeded|failed|stale, releases the target's lock if this request holds it. */
  finish(id: string, state: 'succeeded' | 'failed' | 'stale', outcome: string, now: number): Promise<void>;
  lockHolder(target: string): Promise<string | undefined>;
  lastRollback(target: string): Promise<RollbackRecord | undefined>;
  recordRollback(record: RollbackRecord): Promise<void>;
}

export function newRequestId(now = Date.now()): string {
  // Readable, sortable, and free of ':' (BullMQ job ids cannot contain it).
  const random = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  return `rb-${now.toString(36)}-${random}`;
}

export const REQUEST_ID = /^rb-[a-z0-9]{6,12}-[a-z0-9]{6}$/;

/** A request id nobody knows, or a button that does not belong to its request: the same answer for both. */
export function requestUnknown(): RollbackError {
  return new RollbackError(
    'REQUEST_UNKNOWN',
    'That rollback request does not exist (or this button does not belong to it).',
    {
      hint: 'Nothing was queued. Make a new request for the target.',
    },
  );
}
