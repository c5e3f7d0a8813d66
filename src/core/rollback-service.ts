import type { Logger } from '../log.js';
import {
  type ApprovalRules,
  type ApprovalScope,
  type ApproverDirectory,
  checkApproverFor,
  checkCanceller,
  scopesOf,
} from './approval.js';
import type { BatchStore } from './batch.js';
import { BatchService } from './batch-service.js';
import { type BreakGlassConfirmation, breakGlassApprovalText, decideBreakGlass } from './break-glass.js';
import type { Rules, TargetApproval, TargetConfig } from './config-types.js';
import { DeployGate } from './deploy-gate.js';
import { DriftWatch } from './drift-watch.js';
import { formatDuration, utcTime } from './duration.js';
import { RollbackError, toRollbackError } from './errors.js';
import { isAt } from './executor.js';
import type { FreezeStore } from './freeze.js';
import { FreezeService } from './freeze-service.js';
import { withChanges } from './plan-changes.js';
import type { DriverContext, RollbackDriver } from './ports/driver.js';
import type { Announcement, Notifier } from './ports/notifier.js';
import type { JobQueue } from './ports/queue.js';
import type { ThreadNotes } from './ports/thread-notes.js';
import {
  type BatchRef,
  newRequestId,
  type RequestOrigin,
  type RequestStore,
  type RollbackRequest,
  requestUnknown,
  type ThreadRef,
} from './request.js';
import { RollbackQueries } from './rollback-queries.js';
import { followUpStale, followUpsFor } from './run-rollback.js';
import type { SymmetryRestorer } from './symmetry.js';
import { TargetDrivers } from './target-drivers.js';
import { command, person, text } from './text.js';
import type { TimelineEvent } from './timeline.js';
import type { Plan } from './types.js';

/**
 * An approval normally has its job queued within milliseconds. One still without a job this long after is
 * an orphan (Redis failed between the approval and the queue, and the approval could not be undone).
 */
const ORPHAN_APPROVAL_MS = 30_000;

/** What a person asks for: one target, back to its previous version or to `toVersion`. */
export interface RequestInput {
  target: string;
  toVersion?: string | undefined;
  reason: string;
  requester: string;
  origin: RequestOrigin;
  /** Set for the members of a multi-target request. */
  batch?: BatchRef | undefined;
}

export interface RollbackServiceDeps {
  rules: Rules;
  targets: readonly TargetConfig[];
  drivers: ReadonlyMap<string, RollbackDriver>;
  store: RequestStore;
  directory: ApproverDirectory;
  queue: JobQueue;
  log: Logger;
  now?: () => number;
  /** How long a provider may take to answer while planning. */
  planTimeoutMs?: number;
  symmetry?: SymmetryRestorer | undefined;
  /** Freezes and the deploy gate. */
  freezes: FreezeStore;
  /** Lines in a rollback's thread after it (a deploy the gate refused, a freeze lifted). */
  notes?: ThreadNotes | undefined;
  /** Multi-target requests: what ties their members together. */
  batches: BatchStore;
  /** rollback.yml's groups (name → targets), and those with approval settings of their own. */
  groups?: Readonly<Record<string, readonly string[]>> | undefined;
  groupApproval?: Readonly<Record<string, TargetApproval>> | undefined;
}

/**
 * Requests, approvals and cancellations: everything between a person asking and a job being queued.
 * Knows nothing of Slack or of the queue's implementation; every refusal is a coded RollbackError.
 */
export class RollbackService {
  private readonly now: () => number;

  private readonly targets: TargetDrivers;
  /** What people ask to see: status, history, an incident record. */
  readonly queries: RollbackQueries;
  /** Freezes, unfreezes and the deploy gate. */
  readonly freezes: FreezeService;
  /** May a pipeline deploy this commit to this target now? */
  readonly gate: DeployGate;
  /** While a target is frozen after a rollback: has its live version moved? */
  readonly drift: DriftWatch;
  /** Several targets on one approval. */
  readonly batches: BatchService;

  constructor(private readonly deps: RollbackServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.targets = new TargetDrivers(deps.targets, deps.drivers, deps.planTimeoutMs ?? 20_000);
    this.freezes = new FreezeService({
      freezes: deps.freezes,
      requests: deps.store,
      targets: this.targets,
      rules: deps.rules,
      scopes: (target) => this.approvalScopes(target),
      directory: deps.directory,
      symmetry: deps.symmetry,
      notes: deps.notes,
      log: deps.log,
      now: this.now,
    });
    this.gate = new DeployGate({
      freezes: deps.freezes,
      service: this.freezes,
      targets: this.targets,
      symmetry: deps.symmetry,
      log: deps.log,
      now: this.now,
    });
    this.drift = new DriftWatch({
      freezes: deps.freezes,
      service: this.freezes,
      gate: this.gate,
      targets: this.targets,
      notes: deps.notes,
      log: deps.log,
      now: this.now,
    });
    this.batches = new BatchService({
      service: this,
      store: deps.store,
      batches: deps.batches,
      rules: deps.rules,
      targets: deps.targets,
      groups: deps.groups ?? {},
      groupApproval: deps.groupApproval ?? {},
      directory: deps.directory,
      log: deps.log,
      now: this.now,
    });
    this.queries = new RollbackQueries({
      targets: this.targets,
      store: deps.store,
      freezes: this.freezes,
      log: deps.log,
    });
  }

  get rules(): Rules {
    return this.deps.rules;
  }

  /** Who may approve a request on `target`: its own approvers, else the file's (approvalScopes). */
  approvalScopes(target: string): ApprovalScope[] {
    return scopesOf(this.deps.rules, this.deps.targets, [target]);
  }

  /** The rules one target's request is approved under, as its request message names them. */
  approvalFor(target: string): ApprovalRules {
    return this.approvalScopes(target)[0] ?? this.deps.rules;
  }

  targetNames(): string[] {
    return this.targets.names();
  }

  /** Who approves what, for help: the file's rules, the groups, and every target or group with approvers of its own. */
  helpApprovals() {
    const own = [
      ...this.deps.targets.flatMap((t) =>
        t.approval?.approvers ? [{ name: t.name, approvers: t.approval.approvers }] : [],
      ),
      ...Object.entries(this.deps.groupApproval ?? {}).flatMap(([name, g]) =>
        g.approvers ? [{ name, approvers: g.approvers }] : [],
      ),
    ];
    return { rules: this.deps.rules, groups: this.groups(), own };
  }

  /** rollback.yml's groups: name → targets. */
  groups(): Readonly<Record<string, readonly string[]>> {
    return this.deps.groups ?? {};
  }

  driver(target: string): RollbackDriver {
    return this.targets.driver(target);
  }

  private context(log: Logger): DriverContext & { done(): void } {
    return this.targets.readContext(log);
  }

  async request(input: RequestInput): Promise<RollbackRequest> {
    const request = await this.prepare(input);
    await this.deps.store.create(request);
    await this.recordRequested(request);
    return request;
  }

  /**
   * Everything request() checks and reads, without storing anything: the target's lock, the plan, the no-undo
   * rule. The request it returns is pending and not yet stored (a batch stores its members only when all pass).
   */
  async prepare(input: RequestInput): Promise<RollbackRequest> {
    const driver = this.driver(input.target);
    await this.refuseIfLocked(input.target);
    const id = newRequestId(this.now());
    const log = this.deps.log.child({ requestId: id, target: input.target });
    const ctx = this.context(log);
    let plan: Plan;
    try {
      plan = await withChanges(driver, this.deps.symmetry, ctx, await driver.plan(ctx, { toVersion: input.toVersion }));
    } finally {
      ctx.done();
    }
    if (!input.toVersion) {
      const last = await this.deps.store.lastRollback(input.target);
      if (last && isAt(plan.from, last.to) && last.from.id === plan.to.id) {
        throw new RollbackError(
          'UNDO_REFUSED',
          text`${input.target} is on ${plan.from.label} because of a rollback from ${last.from.label} (approved by ${person(last.by)}, ${last.at}). A rollback cannot be undone from the same pipeline.`,
          {
            hint: text`Fix forward: revert in git and deploy a new version. If you really mean to bring ${last.from.label} back, say so explicitly: ${command({ action: 'rollback-to', target: input.target, version: last.from.label })}.`,
          },
        );
      }
    }
    const createdAt = this.now();
    return {
      id,
      target: input.target,
      plan,
      reason: input.reason,
      requester: input.requester,
      origin: input.origin,
      createdAt,
      expiresAt: createdAt + this.deps.rules.requestTtlMs,
      state: 'pending',
      batch: input.batch,
    };
  }

  /** The record's first line, once the request is stored. */
  async recordRequested(request: RollbackRequest): Promise<void> {
    const { plan } = request;
    await this.record(request.id, {
      kind: 'requested',
      by: request.requester,
      text: text`${person(request.requester)} asked for ${plan.from.label} → ${plan.to.label} (${plan.selection})${request.batch ? text` with ${request.batch.name}` : undefined}${request.reason ? text`: "${request.reason}"` : undefined}`,
    });
    this.deps.log.info(
      {
        requestId: request.id,
        target: request.target,
        from: plan.from.id,
        to: plan.to.id,
        requester: request.requester,
      },
      'rollback requested',
    );
  }

  /** A person asks for a follow-up (a migration revert) after a verified rollback; it needs its own approval. */
  async requestFollowUp(
    parentId: string,
    followUpId: string,
    user: string,
    origin: RequestOrigin,
  ): Promise<RollbackRequest> {
    const parent = await this.find(parentId);
    const followUp = followUpsFor(this.driver(parent.target), this.deps.symmetry, parent.plan).find(
      (f) => f.id === followUpId,
    );
    if (!followUp || parent.followUp) {
      throw new RollbackError(
        'REQUEST_UNKNOWN',
        text`${parent.target} offers no "${followUpId}" after this rollback.`,
        { hint: 'Nothing was queued.' },
      );
    }
    if (parent.state !== 'succeeded') {
      throw new RollbackError(
        'REQUEST_CLOSED',
        `${followUp.label} is offered only after a verified rollback; this one is ${parent.state}.`,
        { hint: 'Nothing was queued.' },
      );
    }
    await checkCanceller(parent, user, this.approvalScopes(parent.target), this.deps.directory);
    await this.refuseIfMoved(parent, followUp);
    await this.refuseIfLocked(parent.target);
    const createdAt = this.now();
    const id = newRequestId(createdAt);
    // One follow-up of each kind per rollback: a click on the same button in the thread gets the first one.
    const holder = await this.deps.store.claimFollowUp(parentId, followUp.id, id);
    if (holder) {
      const first = await this.deps.store.get(holder);
      throw new RollbackError(
        'REQUEST_CLOSED',
        `${followUp.label} was already asked for after this rollback: request ${holder}${first ? ` (${first.state})` : ''}.`,
        {
          hint: 'One per rollback: follow that request in this thread. Only if it ends without running can it be asked for again. Nothing was queued.',
          details: { holder, thread: first?.thread },
        },
      );
    }
    const request: RollbackRequest = {
      id,
      followUp: { ...followUp, parentId },
      target: parent.target,
      plan: parent.plan,
      reason: `${followUp.label} after rollback ${parentId}`,
      requester: user,
      origin,
      createdAt,
      expiresAt: createdAt + this.deps.rules.requestTtlMs,
      state: 'pending',
      thread: parent.thread,
    };
    await this.deps.store.create(request);
    if (parent.thread) await this.deps.store.setThread(request.id, parent.thread);
    await this.record(parentId, {
      kind: 'follow-up',
      by: user,
      text: text`${followUp.label} requested by ${person(user)} (${request.id})`,
    });
    await this.record(request.id, {
      kind: 'requested',
      by: user,
      text: `${followUp.label}: ${followUp.description}`,
    });
    if (followUp.needsApproval) return request;
    // Nothing in production changes (a git branch): the click is the decision.
    const approved = await this.deps.store.approve(request.id, user, this.now());
    if (!approved.ok)
      throw new RollbackError(
        'TARGET_LOCKED',
        `${parent.target} is busy with another rollback; try again when it is done.`,
      );
    return approved.request;
  }

  /** A follow-up is meant for the version its rollback restored: refused once something else is live. */
  private async refuseIfMoved(parent: RollbackRequest, followUp: { label: string }): Promise<void> {
    const ctx = this.context(this.deps.log.child({ requestId: parent.id, target: parent.target }));
    try {
      const live = await this.driver(parent.target).live(ctx);
      if (!isAt(live.current, parent.plan.to))
        throw followUpStale({ label: followUp.label, parentId: parent.id }, parent.plan, live.current);
    } finally {
      ctx.done();
    }
  }

  /** The durable record; a failed write is logged, never in the way of the rollback. */
  async record(requestId: string, event: Omit<TimelineEvent, 'at'>): Promise<void> {
    await this.deps.store
      .append(requestId, { ...event, at: this.now() })
      .catch((err: unknown) => this.deps.log.warn({ err, requestId }, 'could not write the incident record'));
  }

  /** Throws TARGET_LOCKED while another request holds `target` (one whose job is provably gone is released first). */
  async refuseIfLocked(target: string, self?: string): Promise<void> {
    const holder = await this.deps.store.lockHolder(target);
    if (!holder || holder === self) return;
    const running = await this.deps.store.get(holder);
    if (running && (await this.releaseIfOrphaned(running))) return;
    throw new RollbackError(
      'TARGET_LOCKED',
      text`A rollback of ${target} is already ${running?.state === 'running' ? 'running' : 'under way'}${running ? text` (${running.plan.from.label} → ${running.plan.to.label}, approved by ${person(running.approver)})` : undefined}.`,
      {
        hint:
          running?.state === 'approved'
            ? text`One rollback per target at a time. It is approved and waits for a worker: if no bot worker is up, ${command({ action: 'resume', requestId: holder })} runs it from a terminal.`
            : 'One rollback per target at a time: follow the running one, then plan again if you still need to.',
        details: { holder, thread: running?.thread },
      },
    );
  }

  /**
   * A target's lock has no expiry: it is freed when its request ends, or here, when the request's job
   * provably no longer exists. An approval still without a job ORPHAN_APPROVAL_MS after it (Redis failed
   * between the approval and the queue) never ran; a request whose job is gone, or ended without the request
   * ending, is closed as failed, saying what is known.
   */
  private async releaseIfOrphaned(holder: RollbackRequest): Promise<boolean> {
    if (holder.state !== 'approved' && holder.state !== 'running') return false;
    const job = await this.deps.queue.jobState(holder.id);
    if (job === 'waiting' || job === 'active') return false;
    let outcome: string;
    if (holder.state === 'approved' && job === 'missing') {
      if (holder.approvedAt === undefined || this.now() - holder.approvedAt < ORPHAN_APPROVAL_MS) return false;
      const at = new Date(holder.approvedAt).toISOString().slice(11, 16);
      outcome = `approved at ${at} UTC but never queued (Redis failed in between); nothing was changed`;
    } else if (holder.state === 'approved') {
      outcome = 'its job ended without starting it; nothing was changed';
    } else {
      outcome = `its job ${job === 'missing' ? 'no longer exists' : 'ended'} while it was running, without an outcome: check ${holder.target} by hand before anything else`;
    }
    if (!(await this.deps.store.abandon(holder.id, outcome, this.now()))) return false;
    this.deps.log.warn(
      { requestId: holder.id, target: holder.target, job },
      'released the lock of a request whose job is gone',
    );
    await this.record(holder.id, { kind: 'finished', ok: false, text: `failed: ${outcome}` });
    return true;
  }

  /**
   * Where an approved rollback's steps go, known once Slack took the notice (after the job was queued):
   * the worker finds it here. `undefined`: Slack took nothing, the steps go to the log only.
   */
  async attachThread(id: string, thread: ThreadRef | undefined): Promise<void> {
    await this.deps.store.setThread(id, thread ?? null);
  }

  /** Remembers which message holds the request, so clicks from any other message are refused. */
  async recordOrigin(id: string, origin: RequestOrigin): Promise<void> {
    await this.deps.store.setOrigin(id, origin);
  }

  /** Loads a request and checks a click really came from its message. */
  async find(id: string, clickedFrom?: RequestOrigin): Promise<RollbackRequest> {
    const request = await this.deps.store.get(id);
    const fromElsewhere =
      request &&
      clickedFrom &&
      (clickedFrom.channel !== request.origin.channel ||
        (request.origin.messageTs !== undefined && clickedFrom.messageTs !== request.origin.messageTs));
    if (!request || fromElsewhere) throw requestUnknown();
    return request;
  }

  /**
   * Approves a pending request for `user`. `breakGlass`: the requester's confirmation (the target's name typed)
   * of a self-approval after no approver acted for selfApprovalAfter (break-glass.ts); without it such a
   * self-approval is refused with BREAK_GLASS_UNCONFIRMED, which a front end answers by asking for it.
   */
  async approve(
    id: string,
    user: string,
    clickedFrom?: RequestOrigin,
    options: { breakGlass?: BreakGlassConfirmation | undefined } = {},
  ): Promise<RollbackRequest> {
    const request = await this.find(id, clickedFrom);
    refuseIfBatchMember(request);
    this.refuseIfClosed(request);
    if (this.now() > request.expiresAt) {
      const closed = await this.deps.store.close(id, 'expired', 'ttl', this.now());
      if (closed.ok)
        await this.record(id, { kind: 'expired', text: text`expired unapproved (clicked by ${person(user)})` });
      throw this.expired(request);
    }
    const scopes = this.approvalScopes(request.target);
    // A follow-up (a data change after the rollback) is never self-approved by break-glass.
    const decision = request.followUp
      ? { kind: 'usual' as const }
      : decideBreakGlass(request, user, scopes, this.now(), options.breakGlass);
    const breakGlass = decision.kind === 'break-glass' ? decision.breakGlass : undefined;
    await checkApproverFor(
      request,
      user,
      decision.kind === 'break-glass' ? decision.scopes : scopes,
      this.deps.directory,
    );
    let result = await this.deps.store.approve(id, user, this.now(), breakGlass);
    if (!result.ok && result.reason === 'locked') {
      // Throws unless the holder was an orphaned approval, now released: then approve again, once.
      await this.refuseIfLocked(request.target, id);
      result = await this.deps.store.approve(id, user, this.now(), breakGlass);
    }
    if (result.ok) {
      this.deps.log.info(
        { requestId: id, target: request.target, approver: user, breakGlass: breakGlass !== undefined },
        'rollback approved',
      );
      await this.record(id, {
        kind: 'approved',
        by: user,
        text: breakGlass ? breakGlassApprovalText(user, breakGlass) : text`approved by ${person(user)}`,
      });
      return result.request;
    }
    if (result.reason === 'unknown') return this.find(id);
    if (result.reason === 'locked') {
      await this.refuseIfLocked(request.target, id);
    }
    if (result.reason === 'expired') throw this.expired(result.request);
    this.refuseIfClosed(result.request);
    throw new RollbackError('REQUEST_CLOSED', 'This request can no longer be approved.');
  }

  /**
   * Starts an approved rollback, the same way for every front end. The job is queued at once, beside the
   * announcement: the worker's first read need not wait for Slack, and the change itself waits (briefly:
   * ANNOUNCE_WAIT_MS) until the notice is out and its thread stored. If the job cannot be queued the approval
   * is undone (nothing half-done), the announcement's thread says the rollback did not start, and this throws.
   * `dedicated`: the job is for the caller's own worker (the CLI), on a queue no other worker takes from.
   */
  async launch(
    request: RollbackRequest,
    notifier: Notifier,
    options: { dedicated?: boolean } = {},
  ): Promise<Announcement> {
    const announced = notifier.announce(request);
    try {
      await this.queueApproved([request], { threadPending: true, dedicated: options.dedicated });
    } catch (error) {
      const { thread } = await announced;
      if (thread) await notifier.notStarted(thread, toRollbackError(error));
      throw error;
    }
    const announcement = await announced;
    await this.attachThread(request.id, announcement.thread).catch((err: unknown) =>
      this.deps.log.warn(
        { err, requestId: request.id },
        'could not store where the rollback reports; its steps go to the log',
      ),
    );
    return announcement;
  }

  /**
   * Queues approved requests' jobs (several: one batch, queued in one step where the queue allows); if that
   * fails every approval is undone, so nothing is left half-done. Core's use: launch() and batches.launch().
   */
  async queueApproved(
    requests: readonly RollbackRequest[],
    options: { threadPending?: boolean; dedicated?: boolean } = {},
  ): Promise<void> {
    const jobs = requests.map((request) => {
      if (!request.approver || request.approvedAt === undefined)
        throw new Error(`request ${request.id} is not approved`);
      return {
        requestId: request.id,
        plan: request.plan,
        requester: request.requester,
        approver: request.approver,
        approvedAt: request.approvedAt,
        breakGlass: request.breakGlass,
        reason: request.reason,
        threadPending: options.threadPending ? true : undefined,
        followUp: request.followUp,
        batch: request.batch,
      };
    });
    const targets = requests.map((r) => r.target).join(', ');
    try {
      if (jobs.length === 1 && jobs[0]) await this.deps.queue.enqueue(jobs[0], { dedicated: options.dedicated });
      else await this.deps.queue.enqueueAll(jobs, { dedicated: options.dedicated });
      // Not refused when no replica has it: a break-glass rollback must not wait on a replica. A copy lost in
      // a failover is found by the pickup check (the request is pending again), which says so in the thread.
      const copy = await this.deps.queue.copied?.().catch(() => undefined);
      if (copy === 'not-copied')
        this.deps.log.warn(
          { requestIds: requests.map((r) => r.id) },
          'no Redis replica confirmed the approval and its job in time',
        );
      // Together, not one after another: a group's members learn where the notice is only after this (launch
      // attaches the thread next), and one round trip per member kept them waiting.
      await Promise.all(
        requests.map((request) =>
          this.record(request.id, { kind: 'queued', text: options.threadPending ? 'queued' : 'queued; no thread' }),
        ),
      );
    } catch (error) {
      this.deps.log.error({ err: error, requestIds: requests.map((r) => r.id) }, 'could not queue the rollback');
      const reopened = await Promise.all(requests.map((request) => this.deps.store.unapprove(request.id))).then(
        () => true,
        () => false,
      );
      const first = requests[0]?.target ?? '';
      throw new RollbackError(
        'QUEUE_UNAVAILABLE',
        `The rollback of ${targets} could not be queued, so it did NOT start.`,
        {
          hint: reopened
            ? `Redis is not answering. The request is open again: approve it once Redis is back, or roll back by hand with the runbook.`
            : text`Redis is not answering, so the approval could not be undone either: once Redis is back, run ${command({ action: 'plan', target: first })} again (from ${ORPHAN_APPROVAL_MS / 1000} s after this approval it closes this one, which never ran), or roll back by hand with the runbook now.`,
          cause: error,
        },
      );
    }
  }

  async cancel(id: string, user: string, clickedFrom?: RequestOrigin): Promise<RollbackRequest> {
    const request = await this.find(id, clickedFrom);
    refuseIfBatchMember(request);
    this.refuseIfClosed(request);
    await checkCanceller(request, user, this.approvalScopes(request.target), this.deps.directory);
    const result = await this.deps.store.close(id, 'cancelled', user, this.now());
    if (result.ok) {
      await this.record(id, { kind: 'cancelled', by: user, text: text`cancelled by ${person(user)}` });
      return result.request;
    }
    if (result.reason === 'unknown') return this.find(id);
    this.refuseIfClosed(result.request);
    throw new RollbackError('REQUEST_CLOSED', 'This request can no longer be cancelled.');
  }

  expired(request: Pick<RollbackRequest, 'expiresAt' | 'target'>): RollbackError {
    return new RollbackError(
      'REQUEST_EXPIRED',
      `This request expired at ${utcTime(request.expiresAt)}, so it can no longer be approved.`,
      {
        hint: text`Nothing was queued. Run ${command({ action: 'plan', target: request.target })} again for a fresh plan.`,
      },
    );
  }

  /** Throws the refusal for a request that is no longer pending (cancelled, expired, approved…). */
  refuseIfClosed(request: RollbackRequest): void {
    const when = (t: number | undefined) => (t === undefined ? '' : ` ${formatDuration(this.now() - t)} ago`);
    switch (request.state) {
      case 'pending':
        return;
      case 'cancelled':
        throw new RollbackError(
          'REQUEST_CLOSED',
          text`This request was cancelled by ${person(request.closedBy)}${when(request.closedAt)}.`,
          { hint: 'Nothing was queued.' },
        );
      case 'expired':
        throw this.expired(request);
      default:
        throw new RollbackError(
          'REQUEST_CLOSED',
          text`This request was already approved by ${person(request.approver)}${when(request.approvedAt)}; it is ${request.state}.`,
          {
            hint: 'Nothing more was queued: one approval runs one rollback.',
          },
        );
    }
  }
}

/** One target of a multi-target request is approved or cancelled only with the others (batches.approve). */
function refuseIfBatchMember(request: RollbackRequest): void {
  if (!request.batch) return;
  throw new RollbackError(
    'REQUEST_CLOSED',
    `This request is ${request.target}'s part of ${request.batch.name} (${request.batch.id}): it is approved or cancelled only with the other ${request.batch.size - 1} target${request.batch.size === 2 ? '' : 's'}.`,
    { hint: 'Approve or cancel the request message that lists them all. Nothing was queued.' },
  );
}
