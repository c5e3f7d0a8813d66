import type { Logger } from '../log.js';
import {
  ALERT_REQUESTER,
  type Alert,
  type AlertOutcome,
  alertLine,
  alertName,
  clock,
  minutesAfter,
  type ProposalAlert,
  proposalHeadline,
  TARGET_LABEL,
  targetsOf,
} from './alerts.js';
import type { Rules, TargetConfig } from './config-types.js';
import { formatDuration } from './duration.js';
import { toRollbackError } from './errors.js';
import type { FreezeStore } from './freeze.js';
import type { OpenProposal, ProposalBoard, ProposalStore, ProposalWords } from './ports/alert-proposals.js';
import type { RollbackDriver } from './ports/driver.js';
import type { ThreadNotes } from './ports/thread-notes.js';
import type { RequestStore, RollbackRequest } from './request.js';
import type { RollbackService } from './rollback-service.js';
import { plainText, type Text, text } from './text.js';

/** A notification handled is remembered this long: Alertmanager re-sends a firing alert every repeat_interval. */
const SEEN_TTL_MS = 7 * 24 * 3_600_000;
/** How long an approved proposal is remembered, so that its alerts resolving are said in the rollback's thread. */
const DECIDED_TTL_MS = 3_600_000;
/** How long making one proposal may hold its target's slot (planning has its own 20 s timeout). */
const CLAIM_TTL_MS = 60_000;

export interface AlertProposalsDeps {
  rollbacks: Pick<RollbackService, 'request' | 'recordOrigin' | 'driver'>;
  rules: Pick<Rules, 'incidentChannel'>;
  targets: readonly TargetConfig[];
  /** Requests, and their records: what each alert did is written in the record of the request it touched. */
  requests: Pick<RequestStore, 'get' | 'lockHolder' | 'append'>;
  freezes: Pick<FreezeStore, 'current'>;
  store: ProposalStore;
  board: ProposalBoard;
  notes?: ThreadNotes | undefined;
  log: Logger;
  now?: () => number;
  /** How long a provider may take to say what is live and since when. */
  readTimeoutMs?: number;
}

type Result = Omit<AlertOutcome, 'fingerprint' | 'alertname' | 'status' | 'target'>;

/**
 * Alerts propose rollbacks; they never run one. A firing alert about a target, started within its proposeWithin of
 * the target's last deploy, makes an ordinary pending request (RollbackService.request: its rules, locks and undo
 * refusal) with "Alertmanager" as the requester, and the board posts it marked as proposed: an approver's click is
 * what runs it. One open proposal per target: later alerts join its message, a resolved one is annotated on it.
 */
export class AlertProposals {
  private readonly now: () => number;
  /** One alert at a time per target in this process; the store's claim covers other processes. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: AlertProposalsDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Handles one notification's alerts in order; throws only when the store fails (the sender should retry). Each
   * proposal that alerts joined or resolved is rewritten once at the end, not once per alert: a storm of fifty
   * alerts is one Slack edit, well within chat.update's rate limit.
   */
  async receive(alerts: readonly Alert[]): Promise<AlertOutcome[]> {
    const outcomes: AlertOutcome[] = [];
    for (const alert of alerts) outcomes.push(...(await this.one(alert)));
    const touched = new Set(
      outcomes.filter((o) => o.result === 'added' || o.result === 'resolved').flatMap((o) => o.target ?? []),
    );
    for (const target of touched) await this.serially(target, () => this.rewriteOpen(target));
    return outcomes;
  }

  private async one(alert: Alert): Promise<AlertOutcome[]> {
    const base = { fingerprint: alert.fingerprint, alertname: alertName(alert), status: alert.status };
    const log = this.deps.log.child({ alert: base.alertname, fingerprint: alert.fingerprint, status: alert.status });
    const targets = targetsOf(alert, this.deps.targets);
    if (targets.length === 0) {
      const named = alert.labels[TARGET_LABEL];
      const detail =
        named === undefined
          ? "no target: no rollback_target label, and no target's alerts.match fits its labels"
          : `no target called "${named}" in rollback.yml`;
      log.info({ detail }, 'alert names no target');
      return [{ ...base, result: 'no-target', detail }];
    }
    const key = `${alert.fingerprint}|${alert.startsAt}|${alert.status}`;
    if (!(await this.deps.store.firstSeen(key, SEEN_TTL_MS))) {
      return targets.map((t) => ({
        ...base,
        target: t.name,
        result: 'repeat' as const,
        detail: 'already handled: this notification of this alert came before',
      }));
    }
    const outcomes: AlertOutcome[] = [];
    try {
      for (const target of targets) {
        const result = await this.serially(target.name, () =>
          alert.status === 'firing' ? this.firing(alert, target, log) : this.resolved(alert, target, log),
        );
        outcomes.push({ ...base, target: target.name, ...result });
      }
    } catch (error) {
      await this.deps.store.forget(key).catch(() => undefined);
      throw error;
    }
    if (outcomes.some((o) => o.result === 'retry')) await this.deps.store.forget(key);
    return outcomes;
  }

  private serially<T>(target: string, work: () => Promise<T>): Promise<T> {
    const before = this.chains.get(target) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    this.chains.set(target, tail);
    void tail.then(() => {
      if (this.chains.get(target) === tail) this.chains.delete(target);
    });
    return run;
  }

  private async firing(alert: Alert, target: TargetConfig, log: Logger): Promise<Result> {
    const name = target.name;
    const window = target.alerts?.proposeWithinMs ?? 30 * 60_000;
    const slot = await this.openProposal(name, window);
    if (slot === 'claimed') return { result: 'retry', detail: `a proposal for ${name} is being made; send it again` };
    if (slot?.state === 'open') return this.join(slot.proposal, slot.request, alert);

    const holder = await this.deps.requests.lockHolder(name);
    if (holder) {
      const detail = `a rollback of ${name} is already under way (${holder}); not proposed`;
      await this.note(holder, alert, name, text`a rollback of ${name} is already under way, so nothing is proposed.`);
      log.info({ target: name, holder }, 'alert not proposed: the target is locked');
      return { result: 'locked', request: holder, detail };
    }
    const freeze = await this.deps.freezes.current(name);
    if (freeze) {
      await this.note(
        freeze.id,
        alert,
        name,
        text`${name} is frozen after a rollback, so nothing is proposed: fix forward.`,
      );
      log.info({ target: name, freeze: freeze.id }, 'alert not proposed: the target is frozen');
      return {
        result: 'frozen',
        request: freeze.id,
        detail: `${name} is frozen (${freeze.cause === 'rollback' ? `after rollback ${freeze.id}` : 'by hand'}); not proposed`,
      };
    }

    const deployed = await this.liveSince(this.deps.rollbacks.driver(name), log.child({ target: name }));
    if ('result' in deployed) return deployed;
    const { version, since } = deployed;
    if (slot?.state === 'declined' && slot.request.plan.from.label === version)
      return this.declined(slot.request, alert, log);
    // A cancelled proposal for an earlier deploy, or an approved one whose rollback has ended: a new one may be made.
    if (slot) await this.deps.store.release(name);
    const after = alert.startsAt - since;
    if (after < 0 || after > window) {
      const detail =
        after < 0
          ? `started at ${clock(alert.startsAt)} UTC, before ${version} went live (${clock(since)} UTC); not proposed`
          : `started ${minutesAfter(after)} after ${version} went live (${clock(since)} UTC), outside proposeWithin (${formatDuration(window)}); not proposed`;
      log.info({ target: name, liveSince: since, startsAt: alert.startsAt }, `alert not proposed: ${detail}`);
      return { result: 'outside-window', detail };
    }
    return this.propose(alert, target, since, log);
  }

  /**
   * The target's proposal: open while its request waits for a decision; declined once a person cancelled it, and
   * then remembered for `window` (no alert about that deploy proposes again); decided once approved, and then
   * remembered for an hour so that its alerts' resolutions are said in the rollback's thread. An expired one is let go.
   */
  private async openProposal(
    target: string,
    window: number,
  ): Promise<
    { proposal: OpenProposal; request: RollbackRequest; state: 'open' | 'declined' | 'decided' } | 'claimed' | undefined
  > {
    const open = await this.deps.store.open(target);
    if (open === undefined || open === 'claimed') return open;
    const request = await this.deps.requests.get(open.requestId);
    if (request?.state === 'pending' && this.now() <= request.expiresAt)
      return { proposal: open, request, state: 'open' };
    if (request?.state === 'cancelled') {
      if (open.declinedAt === undefined) await this.deps.store.save({ ...open, declinedAt: this.now() }, window);
      return { proposal: open, request, state: 'declined' };
    }
    if (request && request.approvedAt !== undefined) {
      if (open.decidedAt === undefined) await this.deps.store.save({ ...open, decidedAt: this.now() }, DECIDED_TTL_MS);
      return { proposal: open, request, state: 'decided' };
    }
    await this.deps.store.release(target);
    return undefined;
  }

  /** A person cancelled the proposal for the deploy that is still live: later alerts about it are only noted. */
  private async declined(request: RollbackRequest, alert: Alert, log: Logger): Promise<Result> {
    const when = request.closedAt === undefined ? '' : ` at ${clock(request.closedAt)} UTC`;
    await this.record(
      request.id,
      text`${alertName(alert)} firing since ${clock(alert.startsAt)} UTC (Alertmanager): not proposed again, this proposal was cancelled${when}`,
    );
    log.info({ target: request.target, requestId: request.id }, 'alert not proposed: its proposal was cancelled');
    return {
      result: 'declined',
      request: request.id,
      detail: `the proposal to roll back ${request.plan.from.label} (${request.id}) was cancelled by ${request.closedBy ?? 'someone'}${when}; not proposed again while ${request.plan.from.label} is live`,
    };
  }

  private async join(proposal: OpenProposal, request: RollbackRequest, alert: Alert): Promise<Result> {
    if (!proposal.alerts.some((a) => a.fingerprint === alert.fingerprint && a.startsAt === alert.startsAt))
      proposal.alerts.push(proposalAlert(alert));
    await this.deps.store.save(proposal, this.ttl(request));
    await this.record(
      request.id,
      text`${alertName(alert)} firing since ${clock(alert.startsAt)} UTC (Alertmanager): added to this proposal`,
    );
    return { result: 'added', request: request.id, detail: `added to the open proposal ${request.id}` };
  }

  private async liveSince(driver: RollbackDriver, log: Logger): Promise<{ version: string; since: number } | Result> {
    const timeout = AbortSignal.timeout(this.deps.readTimeoutMs ?? 20_000);
    const ctx = { log, signal: timeout, report: () => undefined };
    try {
      const live = await driver.live(ctx);
      const since = await driver.liveSince?.(ctx, live.current);
      if (since !== undefined) return { version: live.current.label, since };
      const detail = `${driver.kind} cannot say when ${live.current.label} went live, so it is not known whether the alert followed a deploy; not proposed`;
      log.warn(detail);
      return { result: 'deploy-time-unknown', detail };
    } catch (error) {
      const coded = toRollbackError(error);
      log.warn({ err: error }, 'alert not proposed: the provider could not say what is live');
      return {
        result: coded.retryable ? 'retry' : 'refused',
        detail: `could not read what is live: ${coded.toUserText()}`,
      };
    }
  }

  private async propose(alert: Alert, target: TargetConfig, since: number, log: Logger): Promise<Result> {
    const name = target.name;
    if (!(await this.deps.store.claim(name, CLAIM_TTL_MS)))
      return { result: 'retry', detail: `a proposal for ${name} is being made; send it again` };
    let request: RollbackRequest;
    try {
      const first = proposalAlert(alert);
      request = await this.deps.rollbacks.request({
        target: name,
        reason: `${first.name} firing since ${clock(first.startsAt)} UTC, ${minutesAfter(first.startsAt - since)} after the last deploy (Alertmanager)`,
        requester: ALERT_REQUESTER,
        origin: { channel: this.deps.rules.incidentChannel },
      });
    } catch (error) {
      await this.deps.store.release(name);
      const coded = toRollbackError(error);
      log.info({ target: name, code: coded.code }, 'alert not proposed: the rollback was refused');
      if (coded.code === 'QUEUE_UNAVAILABLE') throw coded;
      return { result: coded.code === 'TARGET_LOCKED' ? 'locked' : 'refused', detail: coded.toUserText() };
    }
    const proposal: OpenProposal = {
      target: name,
      requestId: request.id,
      channel: '',
      ts: '',
      liveSince: since,
      alerts: [proposalAlert(alert)],
    };
    const words = this.words(request, proposal);
    try {
      const where = await this.deps.board.propose(request, words);
      await this.deps.rollbacks.recordOrigin(request.id, { channel: where.channel, messageTs: where.ts });
      await this.deps.store.save({ ...proposal, ...where }, this.ttl(request));
    } catch (error) {
      await this.deps.store.release(name).catch(() => undefined);
      throw error;
    }
    await this.record(request.id, text`${words.headline} (proposed by Alertmanager)`);
    log.info({ target: name, requestId: request.id }, 'alert proposed a rollback');
    return { result: 'proposed', request: request.id, detail: plainText(words.headline) };
  }

  private async resolved(alert: Alert, target: TargetConfig, log: Logger): Promise<Result> {
    const slot = await this.openProposal(target.name, target.alerts?.proposeWithinMs ?? 30 * 60_000);
    const line =
      typeof slot === 'object' && slot.state !== 'declined'
        ? slot.proposal.alerts.find((a) => a.fingerprint === alert.fingerprint && a.resolvedAt === undefined)
        : undefined;
    if (typeof slot !== 'object' || !line) {
      log.info({ target: target.name }, 'resolved alert: no proposal has it');
      return { result: 'not-open', detail: `no open proposal for ${target.name} has this alert; nothing to annotate` };
    }
    line.resolvedAt = alert.endsAt ?? this.now();
    const { proposal, request } = slot;
    await this.deps.store.save(proposal, slot.state === 'open' ? this.ttl(request) : DECIDED_TTL_MS);
    const words = text`${line.name} resolved at ${clock(line.resolvedAt)} UTC (Alertmanager)`;
    await this.record(request.id, words);
    if (slot.state === 'decided') {
      // The rollback it proposed was approved: its alert resolving is news for the people in that thread.
      if (request.thread && this.deps.notes) await this.deps.notes.post(request.thread, text`✅ ${words}`);
      return {
        result: 'resolved',
        request: request.id,
        detail: `resolved at ${clock(line.resolvedAt)} UTC, said in the thread of rollback ${request.id}`,
      };
    }
    return {
      result: 'resolved',
      request: request.id,
      detail: `resolved at ${clock(line.resolvedAt)} UTC, said on the proposal ${request.id}`,
    };
  }

  /** A proposal's message lives as long as its request may be approved. */
  private ttl(request: RollbackRequest): number {
    return Math.max(request.expiresAt - this.now(), 1_000) + 60_000;
  }

  private words(request: RollbackRequest, proposal: OpenProposal): ProposalWords {
    const [first] = proposal.alerts;
    const facts = {
      target: request.target,
      from: request.plan.from.label,
      to: request.plan.to.label,
      liveSince: proposal.liveSince,
    };
    return {
      headline: first ? proposalHeadline(first, facts) : text`🔔 Roll back ${request.target}?`,
      alerts: proposal.alerts.map(alertLine),
    };
  }

  /** Rewrites the target's proposal as the store has it now, if it still waits for a decision. */
  private async rewriteOpen(target: string): Promise<void> {
    const proposal = await this.deps.store.open(target);
    if (typeof proposal !== 'object') return;
    const request = await this.deps.requests.get(proposal.requestId);
    if (request?.state !== 'pending') return;
    await this.deps.board
      .update(request, { channel: proposal.channel, ts: proposal.ts }, this.words(request, proposal))
      .catch((err: unknown) =>
        this.deps.log.warn({ err, requestId: request.id }, 'could not rewrite the proposal with its alerts'),
      );
  }

  /**
   * An alert that proposes nothing is said in the thread of the rollback in its way, when it has one, and written
   * in that rollback's record.
   */
  private async note(requestId: string, alert: Alert, target: string, why: Text): Promise<void> {
    const words = text`🔔 ${alertName(alert)} firing for ${target} since ${clock(alert.startsAt)} UTC (Alertmanager): ${why}`;
    const request = await this.deps.requests.get(requestId);
    if (!request) return;
    await this.record(requestId, words);
    if (request.thread && this.deps.notes) await this.deps.notes.post(request.thread, words);
  }

  /** The durable record; a failed write is logged, never in the way. */
  private async record(requestId: string, words: Text): Promise<void> {
    await this.deps.requests
      .append(requestId, { at: this.now(), kind: 'alert', text: words })
      .catch((err: unknown) => this.deps.log.warn({ err, requestId }, 'could not write the incident record'));
  }
}

function proposalAlert(alert: Alert): ProposalAlert {
  const summary = alert.annotations.summary ?? alert.annotations.description;
  return {
    fingerprint: alert.fingerprint,
    name: alertName(alert),
    startsAt: alert.startsAt,
    ...(summary ? { summary } : {}),
  };
}
