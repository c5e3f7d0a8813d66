import type { Logger } from '../log.js';
import {
  type ApprovalScope,
  type ApproverDirectory,
  approvalScopes,
  checkApproverFor,
  checkCanceller,
} from './approval.js';
import { BATCH_ID, type BatchStore, newBatchId, type RollbackBatch } from './batch.js';
import { type BreakGlassConfirmation, breakGlassApprovalText, decideBreakGlass } from './break-glass.js';
import type { Rules, TargetApproval, TargetConfig } from './config-types.js';
import { utcTime } from './duration.js';
import { RollbackError, toRollbackError } from './errors.js';
import type { RollbackDriver } from './ports/driver.js';
import type { Announcement, Notifier } from './ports/notifier.js';
import {
  type BatchRef,
  type RequestOrigin,
  type RequestStore,
  type RollbackRequest,
  requestUnknown,
  type ThreadRef,
} from './request.js';
import { person, text } from './text.js';
import type { TimelineEvent } from './timeline.js';

/** What a batch needs of the single-request lifecycle (RollbackService), member by member. */
interface RequestLifecycle {
  driver(target: string): RollbackDriver;
  prepare(input: {
    target: string;
    reason: string;
    requester: string;
    origin: RequestOrigin;
    batch: BatchRef;
  }): Promise<RollbackRequest>;
  recordRequested(request: RollbackRequest): Promise<void>;
  record(requestId: string, event: Omit<TimelineEvent, 'at'>): Promise<void>;
  refuseIfLocked(target: string, self?: string): Promise<void>;
  refuseIfClosed(request: RollbackRequest): void;
  expired(request: Pick<RollbackRequest, 'expiresAt' | 'target'>): RollbackError;
  queueApproved(
    requests: readonly RollbackRequest[],
    options: { threadPending?: boolean; dedicated?: boolean },
  ): Promise<void>;
  attachThread(id: string, thread: ThreadRef | undefined): Promise<void>;
}

export interface BatchServiceDeps {
  service: RequestLifecycle;
  store: RequestStore;
  batches: BatchStore;
  rules: Rules;
  targets: readonly TargetConfig[];
  /** rollback.yml's groups: name → targets. */
  groups: Readonly<Record<string, readonly string[]>>;
  /** rollback.yml's groups written with approval settings of their own. */
  groupApproval: Readonly<Record<string, TargetApproval>>;
  directory: ApproverDirectory;
  log: Logger;
  now: () => number;
}

/** A target a rule refuses in a multi-target request, or (no target) a refusal of the whole (a rate limit). */
export interface BatchRefusal {
  target?: string | undefined;
  error: RollbackError;
}

/**
 * What asking for several targets came to: the batch, its members stored and waiting for one approval; or
 * nothing stored, each target's plan or refusal, so the person can ask again without the refused ones.
 */
export type BatchPlan =
  | { ok: true; batch: RollbackBatch; requests: RollbackRequest[] }
  | { ok: false; name: string; targets: string[]; planned: RollbackRequest[]; refused: BatchRefusal[] };

export interface BatchInput {
  /** The group's name, or the targets joined ("cdn + api"). */
  name: string;
  targets: readonly string[];
  reason: string;
  requester: string;
  origin: RequestOrigin;
}

/** A batch and its members as they are now. */
export interface BatchState {
  batch: RollbackBatch;
  requests: RollbackRequest[];
}

/**
 * Several targets on one approval. Every member is an ordinary request (its plan, lock, job, stale-plan check,
 * verification, record and freeze); this adds what ties them: planned together and refused as a whole, approved
 * by someone every target (and the group) allows with every lock taken atomically, announced in one notice.
 */
export class BatchService {
  constructor(private readonly deps: BatchServiceDeps) {}

  /** The group a batch was asked for by name, when it was one group. */
  private groupOf(name: string): string | undefined {
    return Object.hasOwn(this.deps.groups, name) ? name : undefined;
  }

  /** Who may approve the batch: someone every target allows, and the group's approvers when it has its own. */
  scopes(batch: Pick<RollbackBatch, 'targets' | 'group'>): ApprovalScope[] {
    const group = batch.group === undefined ? undefined : this.deps.groupApproval[batch.group];
    return approvalScopes(
      this.deps.rules,
      batch.targets.map((name) => this.deps.targets.find((t) => t.name === name) ?? { name }),
      group && batch.group ? { name: batch.group, ...group } : undefined,
    );
  }

  /**
   * Plans every target at once. Stores nothing unless every target can be rolled back now (no lock held, a
   * previous version, not the undo of a rollback…) and the providers' rate limits leave room for all of them.
   */
  async request(input: BatchInput): Promise<BatchPlan> {
    const { service } = this.deps;
    const targets = [...new Set(input.targets)];
    // An unknown name is a typing mistake, not a rule: refused at once, as for one target.
    for (const target of targets) service.driver(target);
    const createdAt = this.deps.now();
    const ref: BatchRef = { id: newBatchId(createdAt), name: input.name, size: targets.length };
    const settled = await Promise.allSettled(
      targets.map((target) =>
        service.prepare({
          target,
          reason: input.reason,
          requester: input.requester,
          origin: input.origin,
          batch: ref,
        }),
      ),
    );
    const planned: RollbackRequest[] = [];
    const refused: BatchRefusal[] = [];
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') planned.push(result.value);
      else refused.push({ target: targets[i], error: toRollbackError(result.reason) });
    });
    refused.push(...this.rateLimits(planned));
    if (refused.length > 0) {
      this.deps.log.info(
        { batch: ref.id, name: input.name, refused: refused.map((r) => r.target ?? 'all') },
        'multi-target rollback refused as a whole',
      );
      return { ok: false, name: input.name, targets, planned, refused };
    }
    // One expiry for all: the approval is for all of them.
    const expiresAt = Math.min(...planned.map((r) => r.expiresAt));
    const requests = planned.map((r) => ({ ...r, expiresAt }));
    const batch: RollbackBatch = {
      id: ref.id,
      name: input.name,
      group: this.groupOf(input.name),
      members: requests.map((r) => r.id),
      targets,
      reason: input.reason,
      requester: input.requester,
      origin: input.origin,
      createdAt,
      expiresAt,
    };
    await this.deps.batches.createBatch(batch);
    await Promise.all(requests.map((r) => this.deps.store.create(r)));
    await Promise.all(requests.map((r) => service.recordRequested(r)));
    this.deps.log.info({ batch: batch.id, name: batch.name, targets }, 'multi-target rollback requested');
    return { ok: true, batch, requests };
  }

  /** Providers with a rate limit (Fastly): the writes these rollbacks need against what is left this hour. */
  private rateLimits(planned: readonly RollbackRequest[]): BatchRefusal[] {
    const pools = new Map<string, { remaining: number; resetsAt: number; needed: number; targets: number }>();
    for (const request of planned) {
      const budget = this.deps.service.driver(request.target).writeBudget?.();
      if (!budget) continue;
      const pool = pools.get(budget.pool) ?? {
        remaining: budget.remaining,
        resetsAt: budget.resetsAt,
        needed: 0,
        targets: 0,
      };
      // The lowest figure any answer gave is the one that holds.
      pool.remaining = Math.min(pool.remaining, budget.remaining);
      pool.needed += budget.perRollback;
      pool.targets += 1;
      pools.set(budget.pool, pool);
    }
    const refusals: BatchRefusal[] = [];
    for (const [name, pool] of pools) {
      if (pool.needed <= pool.remaining) continue;
      const until = Number.isFinite(pool.resetsAt) ? ` until ${utcTime(pool.resetsAt)}` : ' this hour';
      refusals.push({
        error: new RollbackError(
          'PROVIDER_RATE_LIMITED',
          `Rolling back these ${pool.targets} targets needs ${pool.needed} writes with the ${name}, but its rate limit allows only ${pool.remaining} more${until}. Stopping half-way on a 429 would be worse, so nothing was requested.`,
          {
            hint: `Ask for at most ${pool.remaining} of them now and the rest${until.replace(' until', ' after')}, or roll the rest back by hand.`,
            details: { pool: name, needed: pool.needed, remaining: pool.remaining, resetsAt: pool.resetsAt },
          },
        ),
      });
    }
    return refusals;
  }

  /** Loads a batch and its members, and checks a click really came from its message. */
  async find(id: string, clickedFrom?: RequestOrigin): Promise<BatchState> {
    const batch = BATCH_ID.test(id) ? await this.deps.batches.getBatch(id) : undefined;
    const fromElsewhere =
      batch &&
      clickedFrom &&
      (clickedFrom.channel !== batch.origin.channel ||
        (batch.origin.messageTs !== undefined && clickedFrom.messageTs !== batch.origin.messageTs));
    if (!batch || fromElsewhere) throw requestUnknown();
    const requests = await Promise.all(batch.members.map((member) => this.deps.store.get(member)));
    if (requests.some((r) => r === undefined)) throw requestUnknown();
    return { batch, requests: requests.filter((r) => r !== undefined) };
  }

  async recordOrigin(id: string, origin: RequestOrigin): Promise<void> {
    await this.deps.batches.setBatchOrigin(id, origin);
  }

  /**
   * One approval for every member: the approver must be allowed on every target (and by the group), and every
   * target's lock is taken in one atomic step, or none is and nothing is approved.
   */
  /**
   * `breakGlass`: the requester's confirmation (the batch's name typed) of a self-approval after no approver acted
   * for selfApprovalAfter (break-glass.ts), as for one target; every target's scope must allow it.
   */
  async approve(
    id: string,
    user: string,
    clickedFrom?: RequestOrigin,
    options: { breakGlass?: BreakGlassConfirmation | undefined } = {},
  ): Promise<BatchState> {
    const { service } = this.deps;
    const { batch, requests } = await this.find(id, clickedFrom);
    for (const request of requests) service.refuseIfClosed(request);
    const now = this.deps.now();
    if (now > batch.expiresAt) {
      await this.expireAll(requests, user);
      throw service.expired({ expiresAt: batch.expiresAt, target: batch.name });
    }
    const scopes = this.scopes(batch);
    const decision = decideBreakGlass(
      { requester: batch.requester, createdAt: batch.createdAt, target: batch.name },
      user,
      scopes,
      now,
      options.breakGlass,
    );
    const breakGlass = decision.kind === 'break-glass' ? decision.breakGlass : undefined;
    await checkApproverFor(
      batch,
      user,
      decision.kind === 'break-glass' ? decision.scopes : scopes,
      this.deps.directory,
    );
    let result = await this.deps.store.approveAll(batch.members, user, now, breakGlass);
    if (!result.ok && result.refusal.reason === 'locked') {
      // Throws unless the holder was an orphaned approval, now released: then approve again, once.
      await service.refuseIfLocked(result.refusal.request.target, result.id);
      result = await this.deps.store.approveAll(batch.members, user, this.deps.now(), breakGlass);
    }
    if (result.ok) {
      this.deps.log.info({ batch: id, approver: user, targets: batch.targets }, 'multi-target rollback approved');
      await Promise.all(
        result.requests.map((r) =>
          service.record(r.id, {
            kind: 'approved',
            by: user,
            text: breakGlass
              ? text`${breakGlassApprovalText(user, breakGlass)}, with ${batch.name}`
              : text`approved by ${person(user)}, with ${batch.name}`,
          }),
        ),
      );
      return { batch, requests: result.requests };
    }
    const { refusal } = result;
    if (refusal.reason === 'unknown') throw requestUnknown();
    if (refusal.reason === 'locked') await service.refuseIfLocked(refusal.request.target, result.id);
    if (refusal.reason === 'expired') {
      await this.expireAll(requests, user);
      throw service.expired({ expiresAt: batch.expiresAt, target: batch.name });
    }
    service.refuseIfClosed(refusal.request);
    throw new RollbackError('REQUEST_CLOSED', 'This request can no longer be approved.');
  }

  private async expireAll(requests: readonly RollbackRequest[], user: string): Promise<void> {
    const now = this.deps.now();
    for (const request of requests) {
      const closed = await this.deps.store.close(request.id, 'expired', 'ttl', now);
      if (closed.ok)
        await this.deps.service.record(request.id, {
          kind: 'expired',
          text: text`expired unapproved (clicked by ${person(user)})`,
        });
    }
  }

  /**
   * Starts an approved batch: one notice naming every restored version, every job queued together beside it
   * (all or none: a failure undoes every approval), and every member's steps in the notice's thread.
   */
  async launch(state: BatchState, notifier: Notifier, options: { dedicated?: boolean } = {}): Promise<Announcement> {
    const { service } = this.deps;
    const announced = notifier.announceBatch(state.batch, state.requests);
    try {
      await service.queueApproved(state.requests, { threadPending: true, dedicated: options.dedicated });
    } catch (error) {
      const { thread } = await announced;
      if (thread) await notifier.notStarted(thread, toRollbackError(error));
      throw error;
    }
    const announcement = await announced;
    await Promise.all(state.requests.map((r) => service.attachThread(r.id, announcement.thread))).catch(
      (err: unknown) =>
        this.deps.log.warn(
          { err, batch: state.batch.id },
          'could not store where the rollbacks report; steps go to the log',
        ),
    );
    return announcement;
  }

  /** The requester, or someone who could approve every target, cancels all of them. */
  async cancel(id: string, user: string, clickedFrom?: RequestOrigin): Promise<BatchState> {
    const { service } = this.deps;
    const { batch, requests } = await this.find(id, clickedFrom);
    for (const request of requests) service.refuseIfClosed(request);
    await checkCanceller(batch, user, this.scopes(batch), this.deps.directory);
    const now = this.deps.now();
    const closed: RollbackRequest[] = [];
    for (const request of requests) {
      const result = await this.deps.store.close(request.id, 'cancelled', user, now);
      if (!result.ok) {
        if (result.reason === 'closed') service.refuseIfClosed(result.request);
        throw requestUnknown();
      }
      closed.push(result.request);
      await service.record(request.id, {
        kind: 'cancelled',
        by: user,
        text: text`cancelled by ${person(user)}, with ${batch.name}`,
      });
    }
    return { batch, requests: closed };
  }
}

/**
 * What a refusal as a whole says, in every front end's words: why nothing was requested, and the targets to ask
 * again with (undefined when no target could go, or the refusal was the providers' limit, not a target's rule).
 */
export function batchRefusalWords(refusal: Extract<BatchPlan, { ok: false }>): {
  subject: string;
  why: string;
  askAgainWith: string[] | undefined;
} {
  const targetRefusals = refusal.refused.filter((r) => r.target !== undefined).length;
  const rest = refusal.planned.map((r) => r.target);
  return {
    subject: `Nothing was requested for ${refusal.name}:`,
    why: `one approval covers all ${refusal.targets.length} targets or none, and ${
      targetRefusals > 0
        ? `${targetRefusals} of them cannot be rolled back now.`
        : 'the providers cannot take all of them now.'
    }`,
    askAgainWith: targetRefusals > 0 && rest.length > 0 ? rest : undefined,
  };
}
