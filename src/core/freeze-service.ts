import type { Logger } from '../log.js';
import { type ApprovalScope, type ApproverDirectory, checkApproverFor, checkCanceller } from './approval.js';
import type { Rules } from './config-types.js';
import { utcTime } from './duration.js';
import { RollbackError, toRollbackError } from './errors.js';
import {
  type Freeze,
  type FreezeStore,
  type LiftedFreeze,
  newFreezeId,
  newUnfreezeId,
  type UnfreezeRequest,
} from './freeze.js';
import type { ThreadNotes } from './ports/thread-notes.js';
import type { RequestOrigin, RequestStore } from './request.js';
import type { SymmetryRestorer } from './symmetry.js';
import type { TargetDrivers } from './target-drivers.js';
import { command, person, type Text, text } from './text.js';
import type { TimelineEvent } from './timeline.js';

/** A frozen target as status shows it. */
export interface FrozenTarget {
  freeze: Freeze;
  /** What will lift it. */
  lift: Text;
}

export interface FreezeServiceDeps {
  freezes: FreezeStore;
  /** Threads and incident records of the rollbacks that froze targets. */
  requests: Pick<RequestStore, 'thread' | 'append'>;
  targets: TargetDrivers;
  rules: Rules;
  /** Who may approve on a target: the rollback's rules for it (RollbackService.approvalScopes). */
  scopes: (target: string) => ApprovalScope[];
  directory: ApproverDirectory;
  symmetry?: SymmetryRestorer | undefined;
  notes?: ThreadNotes | undefined;
  log: Logger;
  now?: () => number;
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

/**
 * The deploy gate and the freezes behind it. A rollback freezes its target from the moment its change is
 * applied (run-rollback); while frozen, a deploy may go out only if its commit contains the rollback's revert,
 * until an approved unfreeze ends it, or a deploy containing the revert goes live (checkLift).
 */
export class FreezeService {
  private readonly now: () => number;

  constructor(private readonly deps: FreezeServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The target's freeze and what will lift it; undefined when it is not frozen. */
  async frozen(target: string): Promise<FrozenTarget | undefined> {
    const freeze = await this.deps.freezes.current(target);
    return freeze ? { freeze, lift: this.liftText(freeze) } : undefined;
  }

  /** Ended freezes, newest first. */
  history(target: string | undefined, limit = 10): Promise<LiftedFreeze[]> {
    if (target) this.deps.targets.driver(target);
    return this.deps.freezes.history(target, limit);
  }

  /** `/rollback freeze <target> <reason>`: at once, by anyone who may ask for a rollback. */
  async freezeByHand(input: { target: string; reason: string; by: string }): Promise<Freeze> {
    this.deps.targets.driver(input.target);
    const reason = input.reason.trim();
    if (!reason) throw reasonMissing('freeze', input.target);
    const freeze: Freeze = {
      id: newFreezeId(this.now()),
      target: input.target,
      cause: 'manual',
      since: this.now(),
      by: input.by,
      reason,
    };
    const existing = await this.deps.freezes.freezeIfNone(freeze);
    if (existing) {
      throw new RollbackError('TARGET_FROZEN', text`${input.target} is already frozen: ${this.describe(existing)}.`, {
        hint: text`Deploys wait until ${this.liftText(existing)}.`,
        details: { freeze: existing.id },
      });
    }
    this.deps.log.info({ target: input.target, freeze: freeze.id, by: input.by }, 'target frozen by hand');
    await this.record(freeze.id, {
      kind: 'frozen',
      by: input.by,
      text: text`frozen by ${person(input.by)}: ${reason}`,
    });
    return freeze;
  }

  /** `/rollback unfreeze <target> <reason>`: a request that an approver must approve, as for a rollback. */
  async requestUnfreeze(input: {
    target: string;
    reason: string;
    requester: string;
    origin: RequestOrigin;
  }): Promise<{ request: UnfreezeRequest; freeze: Freeze }> {
    this.deps.targets.driver(input.target);
    const reason = input.reason.trim();
    if (!reason) throw reasonMissing('unfreeze', input.target);
    const freeze = await this.deps.freezes.current(input.target);
    if (!freeze) throw notFrozen(input.target);
    const createdAt = this.now();
    const request: UnfreezeRequest = {
      id: newUnfreezeId(createdAt),
      target: input.target,
      freezeId: freeze.id,
      reason,
      requester: input.requester,
      origin: input.origin,
      createdAt,
      expiresAt: createdAt + this.deps.rules.requestTtlMs,
      state: 'pending',
    };
    await this.deps.freezes.createUnfreeze(request);
    await this.record(freeze.id, {
      kind: 'unfrozen',
      by: input.requester,
      text: text`unfreeze asked for by ${person(input.requester)} (${request.id}): ${reason}`,
    });
    return { request, freeze };
  }

  /** Remembers which message holds the unfreeze request, so clicks from any other message are refused. */
  async recordUnfreezeOrigin(id: string, origin: RequestOrigin): Promise<void> {
    await this.deps.freezes.setUnfreezeOrigin(id, origin);
  }

  /** Loads an unfreeze request and checks a click really came from its message. */
  async findUnfreeze(id: string, clickedFrom?: RequestOrigin): Promise<UnfreezeRequest> {
    const request = await this.deps.freezes.getUnfreeze(id);
    const fromElsewhere =
      request &&
      clickedFrom &&
      (clickedFrom.channel !== request.origin.channel ||
        (request.origin.messageTs !== undefined && clickedFrom.messageTs !== request.origin.messageTs));
    if (!request || fromElsewhere) throw unfreezeUnknown();
    return request;
  }

  /** Approved (same rules as a rollback), the freeze ends: the thread and the record say who and why. */
  async approveUnfreeze(
    id: string,
    user: string,
    clickedFrom?: RequestOrigin,
  ): Promise<{ request: UnfreezeRequest; lifted: LiftedFreeze }> {
    const request = await this.findUnfreeze(id, clickedFrom);
    this.refuseIfDecided(request);
    if (this.now() > request.expiresAt) {
      await this.deps.freezes.closeUnfreeze(id, 'expired', 'ttl', this.now());
      throw this.expired(request);
    }
    await checkApproverFor(request, user, this.deps.scopes(request.target), this.deps.directory, 'unfreeze');
    const why = text`unfreeze approved by ${person(user)}, asked for by ${person(request.requester)}: ${request.reason}`;
    const at = this.now();
    const result = await this.deps.freezes.approveUnfreeze(id, user, at, {
      at,
      by: user,
      how: 'unfreeze',
      why,
      requestId: id,
      requester: request.requester,
    });
    if (result.ok) {
      this.deps.log.info({ target: request.target, unfreeze: id, approver: user }, 'freeze lifted');
      await this.tell(result.lifted, text`🔓 ${request.target} is no longer frozen: ${why}.`, {
        kind: 'unfrozen',
        by: user,
        text: why,
      });
      await this.offerResume(result.lifted);
      return { request: result.request, lifted: result.lifted };
    }
    if (result.reason === 'unknown') throw unfreezeUnknown();
    if (result.reason === 'expired') throw this.expired(result.request);
    if (result.reason === 'freeze-gone') {
      throw new RollbackError(
        'NOT_FROZEN',
        result.current
          ? text`This unfreeze was asked for the freeze of ${request.freezeId}; ${request.target} is now frozen by ${result.current.id} (${this.describe(result.current)}), so nothing was lifted.`
          : text`${request.target} is no longer frozen (the freeze this request was for has ended), so there is nothing to lift.`,
        {
          hint: result.current
            ? text`If it should end too, ask again: ${command({ action: 'unfreeze', target: request.target })}.`
            : 'Deploys go through the gate.',
        },
      );
    }
    this.refuseIfDecided(result.request);
    throw new RollbackError('REQUEST_CLOSED', 'This unfreeze request can no longer be approved.');
  }

  async cancelUnfreeze(id: string, user: string, clickedFrom?: RequestOrigin): Promise<UnfreezeRequest> {
    const request = await this.findUnfreeze(id, clickedFrom);
    this.refuseIfDecided(request);
    await checkCanceller(request, user, this.deps.scopes(request.target), this.deps.directory, 'unfreeze');
    const result = await this.deps.freezes.closeUnfreeze(id, 'cancelled', user, this.now());
    if (result.ok) return result.request;
    if (result.reason === 'unknown') throw unfreezeUnknown();
    this.refuseIfDecided(result.request);
    throw new RollbackError('REQUEST_CLOSED', 'This unfreeze request can no longer be cancelled.');
  }

  /**
   * The rollback suspended a GitOps controller: now that its freeze has ended, the thread offers to put back
   * exactly that (a person decides: the controller deploys what git says).
   */
  async offerResume(freeze: Freeze): Promise<void> {
    if (freeze.cause !== 'rollback' || !this.deps.notes) return;
    const record = await this.deps.freezes.suspension(freeze.id).catch(() => undefined);
    if (!record || record.resumed) return;
    const thread = await this.deps.requests.thread(freeze.id).catch(() => undefined);
    if (!thread) return;
    const { suspension } = record;
    await this.deps.notes.offerResume(
      thread,
      text`This rollback suspended ${suspension.controller} (${suspension.description}). Put it back now that ${freeze.target} is no longer frozen? It will deploy what git says.`,
      { requestId: freeze.id, label: `Resume ${suspension.controller}` },
    );
  }

  /** An approver puts back what the rollback `requestId` suspended of a GitOps controller, once. */
  async resumeGitOps(requestId: string, user: string): Promise<string> {
    const record = await this.deps.freezes.suspension(requestId);
    if (!record) throw new RollbackError('REQUEST_UNKNOWN', 'That rollback suspended no GitOps controller.');
    const approvers = this.deps.scopes(record.target)[0]?.approvers ?? this.deps.rules.approvers;
    if (!(await this.deps.directory.isApprover(user, approvers)))
      throw new RollbackError('NOT_AUTHORIZED', `Only an approver can resume ${record.suspension.controller}.`);
    const current = await this.deps.freezes.current(record.target);
    if (current?.id === requestId)
      throw new RollbackError(
        'TARGET_FROZEN',
        text`${record.target} is still frozen by this rollback: end the freeze first (${command({ action: 'unfreeze', target: record.target })}), then resume.`,
      );
    const at = this.now();
    if (!(await this.deps.freezes.claimResume(requestId, user, at))) {
      const again = await this.deps.freezes.suspension(requestId);
      throw new RollbackError(
        'REQUEST_CLOSED',
        text`${record.suspension.controller} was already resumed by ${person(again?.resumed?.by)}.`,
      );
    }
    const driver = this.deps.targets.driver(record.target);
    const ctx = this.deps.targets.readContext(this.deps.log.child({ target: record.target, requestId }));
    try {
      if (!driver.resumeGitOps)
        throw new RollbackError('PROVIDER_REJECTED', `${record.target} cannot resume GitOps controllers.`);
      const detail = await driver.resumeGitOps(ctx, record.suspension);
      const line = text`▶️ ${record.suspension.controller} resumed by ${person(user)}: ${detail}`;
      await this.tell({ id: requestId, cause: 'rollback' }, line, {
        kind: 'gitops',
        by: user,
        ok: true,
        text: line,
      });
      return detail;
    } catch (error) {
      await this.deps.freezes.releaseResume(requestId).catch(() => undefined);
      throw toRollbackError(error);
    } finally {
      ctx.done();
    }
  }

  /** "frozen since 02:31 UTC after rollback rb-… (v42 → v41)", "frozen by hand by @alice at 02:31 UTC: …". */
  describe(freeze: Freeze): Text {
    if (freeze.cause === 'manual')
      return text`frozen by hand by ${person(freeze.by)} since ${utcTime(freeze.since)}: "${freeze.reason}"`;
    const versions = freeze.from && freeze.restored ? ` (${freeze.from.label} → ${freeze.restored.label})` : '';
    return text`frozen since ${utcTime(freeze.since)} after rollback ${freeze.id}${versions}`;
  }

  /** What will end the freeze, in the front end's words. */
  liftText(freeze: Freeze): Text {
    const unfreeze = text`an approved ${command({ action: 'unfreeze', target: freeze.target })}`;
    if (freeze.cause === 'rollback' && this.deps.symmetry?.has(freeze.target)) {
      if (freeze.revert)
        return text`a deploy of a commit that contains the revert ${short(freeze.revert.commit)} (branch ${freeze.revert.branch}), or ${unfreeze}`;
      return text`a revert branch (Create revert branch, in the rollback's thread), then a deploy of a commit built on it; or ${unfreeze}`;
    }
    return unfreeze;
  }

  /** Says it in the freeze's rollback thread (if there is one) and in its incident record. */
  async tell(freeze: Pick<Freeze, 'id' | 'cause'>, line: Text, event: Omit<TimelineEvent, 'at'>): Promise<void> {
    await this.record(freeze.id, event);
    if (freeze.cause !== 'rollback' || !this.deps.notes) return;
    const thread = await this.deps.requests.thread(freeze.id).catch(() => undefined);
    if (thread) await this.deps.notes.post(thread, line);
  }

  private async record(id: string, event: Omit<TimelineEvent, 'at'>): Promise<void> {
    await this.deps.requests
      .append(id, { ...event, at: this.now() })
      .catch((err: unknown) => this.deps.log.warn({ err, id }, 'could not write the incident record'));
  }

  private refuseIfDecided(request: UnfreezeRequest): void {
    switch (request.state) {
      case 'pending':
        return;
      case 'expired':
        throw this.expired(request);
      case 'cancelled':
        throw new RollbackError(
          'REQUEST_CLOSED',
          request.closedBy === 'freeze-ended'
            ? 'This unfreeze request was closed: the freeze it was for had already ended.'
            : text`This unfreeze request was cancelled by ${person(request.closedBy)}.`,
          { hint: 'Nothing was lifted.' },
        );
      case 'approved':
        throw new RollbackError(
          'REQUEST_CLOSED',
          text`This unfreeze was already approved by ${person(request.approver)}; ${request.target} is no longer frozen by it.`,
        );
    }
  }

  private expired(request: UnfreezeRequest): RollbackError {
    return new RollbackError(
      'REQUEST_EXPIRED',
      `This unfreeze request expired at ${utcTime(request.expiresAt)}, so it can no longer be approved.`,
      { hint: text`Nothing was lifted. Ask again: ${command({ action: 'unfreeze', target: request.target })}.` },
    );
  }
}

function unfreezeUnknown(): RollbackError {
  return new RollbackError(
    'REQUEST_UNKNOWN',
    'That unfreeze request does not exist (or this button does not belong to it).',
    { hint: 'Nothing was lifted.' },
  );
}

function notFrozen(target: string): RollbackError {
  return new RollbackError('NOT_FROZEN', `${target} is not frozen: deploys go through the gate.`, {
    hint: 'Nothing to lift.',
  });
}

function reasonMissing(action: 'freeze' | 'unfreeze', target: string): RollbackError {
  return new RollbackError(
    'COMMAND_INVALID',
    `Say why: \`${action} ${target} <reason>\`. The reason goes in the record.`,
  );
}
