import type { Logger } from '../log.js';
import { RollbackError, toRollbackError } from './errors.js';
import { isAt } from './executor.js';
import type { FreezeService, FrozenTarget } from './freeze-service.js';
import { type RequestOrigin, type RequestStore, type RollbackRequest, requestUnknown } from './request.js';
import type { TargetDrivers } from './target-drivers.js';
import type { TimelineEvent } from './timeline.js';
import type { RollbackRecord, VersionInfo } from './types.js';

export interface TargetStatus {
  name: string;
  kind: string;
  resource?: string | undefined;
  current?: VersionInfo | undefined;
  error?: string | undefined;
  /** The request holding the target's lock (approved or running). */
  running?: RollbackRequest | undefined;
  /** Set while the live version is the one a rollback restored: git and the deploy disagree. */
  diverged?: RollbackRecord | undefined;
  /** Set while the deploy gate holds the target: since when, by which request, what will lift it. */
  frozen?: FrozenTarget | undefined;
}

export interface HistoryEntry {
  request: RollbackRequest;
  /** Approval → end, when it ran. */
  durationMs: number | undefined;
}

/** What people ask to see, never changing anything: every target's state, the history, a request's record. */
export class RollbackQueries {
  constructor(
    private readonly deps: { targets: TargetDrivers; store: RequestStore; freezes: FreezeService; log: Logger },
  ) {}

  /** The last rollbacks (newest first), with outcome and duration. */
  async history(target: string | undefined, limit = 10): Promise<HistoryEntry[]> {
    if (target) this.deps.targets.driver(target);
    const ids = await this.deps.store.recentRequests(target, limit * 3);
    const requests = (await Promise.all(ids.map((id) => this.deps.store.get(id)))).filter(
      (r): r is RollbackRequest => r !== undefined,
    );
    return requests
      .filter((r) => !r.followUp)
      .slice(0, limit)
      .map((request) => ({
        request,
        durationMs:
          request.finishedAt !== undefined && request.approvedAt !== undefined
            ? request.finishedAt - request.approvedAt
            : undefined,
      }));
  }

  /**
   * The provider's full diff of a request's plan, from what was live to what comes back (the "Show diff" button).
   * Reads only, with the plan's read timeout; throws when the target's provider has no diff or cannot give it.
   * `clickedFrom`: the message the button was in; a request is shown only from its own channel and message.
   */
  async fullDiff(id: string, clickedFrom?: RequestOrigin): Promise<{ request: RollbackRequest; diff: string }> {
    const request = await this.deps.store.get(id);
    const elsewhere =
      request &&
      clickedFrom &&
      (clickedFrom.channel !== request.origin.channel ||
        (request.origin.messageTs !== undefined && clickedFrom.messageTs !== request.origin.messageTs));
    if (!request || elsewhere) throw requestUnknown();
    const driver = this.deps.targets.driver(request.target);
    if (!driver.diff || (request.plan.identity && request.plan.identity !== driver.identity)) {
      throw new RollbackError('COMMAND_INVALID', `There is no diff to show for ${request.target}'s plan.`, {
        hint: 'The summary in the request message is all there is.',
      });
    }
    const ctx = this.deps.targets.readContext(this.deps.log.child({ requestId: id, target: request.target }));
    try {
      return { request, diff: await driver.diff(ctx, request.plan) };
    } finally {
      ctx.done();
    }
  }

  /** The request and its durable timeline: what the incident record is made of (renderIncidentRecord). */
  async incidentRecord(id: string): Promise<{ request: RollbackRequest; timeline: TimelineEvent[] }> {
    const request = await this.deps.store.get(id);
    if (!request) throw requestUnknown();
    return { request, timeline: await this.deps.store.timeline(id) };
  }

  async status(): Promise<TargetStatus[]> {
    return Promise.all(
      this.deps.targets.configs().map(async (target): Promise<TargetStatus> => {
        // The freeze is Redis's answer alone: a target the provider cannot be asked about still shows it.
        const frozen = await this.deps.freezes.frozen(target.name);
        const base: TargetStatus = { name: target.name, kind: target.kind, frozen };
        const ctx = this.deps.targets.readContext(this.deps.log.child({ target: target.name }));
        try {
          const [live, holder, last] = await Promise.all([
            this.deps.targets.driver(target.name).live(ctx),
            this.deps.store.lockHolder(target.name),
            this.deps.store.lastRollback(target.name),
          ]);
          const running = holder ? await this.deps.store.get(holder) : undefined;
          const diverged = last && isAt(live.current, last.to) ? last : undefined;
          return { ...base, resource: live.resource, current: live.current, running, diverged };
        } catch (error) {
          return { ...base, error: toRollbackError(error).message };
        } finally {
          ctx.done();
        }
      }),
    );
  }
}
