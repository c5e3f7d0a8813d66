import type { GitOpsSuspension, RevertRef } from './ports/driver.js';

export type { RevertRef } from './ports/driver.js';

import type { RequestOrigin } from './request.js';
import type { Text } from './text.js';
import type { VersionInfo } from './types.js';

/**
 * A frozen target: after a rollback (from the moment its change is applied) or by hand. While it lasts, the
 * deploy gate lets through only a commit that contains the rollback's revert; an approved unfreeze ends it.
 */
export interface Freeze {
  /** The rollback request that froze the target, or the freeze's own id (`fz-…`) for a freeze by hand. */
  id: string;
  target: string;
  cause: 'rollback' | 'manual';
  /** When it began (ms since the epoch). */
  since: number;
  /** The rollback's approver, or who froze it by hand. */
  by: string;
  reason: string;
  /** What the rollback took out and put back: a deploy of something newer that contains the revert ends it. */
  from?: VersionInfo | undefined;
  restored?: VersionInfo | undefined;
  /** The revert branch made for the rollback, once it is pushed. */
  revert?: RevertRef | undefined;
  /** The version the drift watch last saw live (the restored one until something moves it). */
  seen?: VersionInfo | undefined;
}

/** What a rollback suspended of a GitOps controller, and whether it was put back. */
export interface SuspensionRecord {
  requestId: string;
  target: string;
  suspension: GitOpsSuspension;
  resumed?: { by: string; at: number } | undefined;
}

/** How a freeze ended. */
export interface Lift {
  at: number;
  /** Who lifted it: the unfreeze's approver; `gate` when a deploy containing the revert went live. */
  by: string;
  how: 'unfreeze' | 'revert-deployed' | 'superseded';
  why: string | Text;
  /** The approved unfreeze request (`uf-…`), or the rollback that replaced the freeze. */
  requestId?: string | undefined;
  /** The unfreeze's requester, when it was one. */
  requester?: string | undefined;
}

export interface LiftedFreeze extends Freeze {
  lifted: Lift;
}

type UnfreezeState = 'pending' | 'approved' | 'cancelled' | 'expired';

/** `/rollback unfreeze <target> <reason>`: approved like a rollback, it ends the freeze it was asked for. */
export interface UnfreezeRequest {
  id: string;
  target: string;
  /** The freeze it ends: if another freeze has replaced it by the approval, nothing is lifted. */
  freezeId: string;
  reason: string;
  requester: string;
  origin: RequestOrigin;
  createdAt: number;
  expiresAt: number;
  state: UnfreezeState;
  approver?: string | undefined;
  approvedAt?: number | undefined;
  closedBy?: string | undefined;
  closedAt?: number | undefined;
}

export type ApproveUnfreezeResult =
  | { ok: true; request: UnfreezeRequest; lifted: LiftedFreeze }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'closed' | 'expired'; request: UnfreezeRequest }
  /** The freeze it was for has ended or been replaced; the request is closed, nothing lifted. */
  | { ok: false; reason: 'freeze-gone'; request: UnfreezeRequest; current: Freeze | undefined };

export type CloseUnfreezeResult =
  | { ok: true; request: UnfreezeRequest }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'closed'; request: UnfreezeRequest };

/** Where freezes live (Redis): without a TTL, so they outlast restarts; every change is atomic. */
export interface FreezeStore {
  /** Freezes the target; a freeze already there is ended as `superseded` by this one and kept in the history. */
  freeze(freeze: Freeze): Promise<void>;
  /** Freezes the target only when it is not frozen; returns the freeze already there, if any. */
  freezeIfNone(freeze: Freeze): Promise<Freeze | undefined>;
  current(target: string): Promise<Freeze | undefined>;
  /** Notes the revert branch on the freeze `freezeId`, if it is still the target's. */
  attachRevert(target: string, freezeId: string, revert: RevertRef): Promise<boolean>;
  /** Ends the freeze `freezeId` if it is still the target's (atomically); the ended freeze, else undefined. */
  lift(target: string, freezeId: string, lift: Lift): Promise<LiftedFreeze | undefined>;
  /** Ended freezes, newest first: every target, or one. */
  history(target: string | undefined, limit: number): Promise<LiftedFreeze[]>;
  /** True the first time a deploy of `commit` is refused under the freeze `freezeId`. */
  firstRefusal(freezeId: string, commit: string): Promise<boolean>;
  createUnfreeze(request: UnfreezeRequest): Promise<void>;
  getUnfreeze(id: string): Promise<UnfreezeRequest | undefined>;
  setUnfreezeOrigin(id: string, origin: RequestOrigin): Promise<void>;
  /** pending → approved, ending the freeze it was asked for, in one step: both or neither. */
  approveUnfreeze(id: string, approver: string, now: number, lift: Lift): Promise<ApproveUnfreezeResult>;
  closeUnfreeze(id: string, state: 'cancelled' | 'expired', by: string, now: number): Promise<CloseUnfreezeResult>;
  /**
   * The drift watch saw `seen` live: true for the one check that moves the freeze's seen version from
   * `expectedSeenId` (so one move gets one message, however many workers check).
   */
  noteSeen(target: string, freezeId: string, expectedSeenId: string, seen: VersionInfo): Promise<boolean>;
  /** Keeps the first suspension of a rollback (a resumed run suspends nothing again). */
  recordSuspension(record: SuspensionRecord): Promise<void>;
  suspension(requestId: string): Promise<SuspensionRecord | undefined>;
  /** True for the one click that gets to put the suspension back; `release` undoes it when that failed. */
  claimResume(requestId: string, by: string, at: number): Promise<boolean>;
  releaseResume(requestId: string): Promise<void>;
}

export function newFreezeId(now = Date.now()): string {
  return `fz-${now.toString(36)}-${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`;
}

export function newUnfreezeId(now = Date.now()): string {
  return `uf-${now.toString(36)}-${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`;
}

/** A commit as pipelines pass it: an abbreviated or full sha (SHA-1 or SHA-256). */
export const COMMIT_SHA = /^[0-9a-f]{7,64}$/;
