import type { ProposalAlert } from '../alerts.js';
import type { RollbackRequest } from '../request.js';
import type { Text } from '../text.js';

/** A rollback proposed by alerts, waiting for a person: one per target while its request is pending. */
export interface OpenProposal {
  target: string;
  requestId: string;
  /** Where its message is. */
  channel: string;
  ts: string;
  /** When the version it proposes to roll back from went live (ms since the epoch). */
  liveSince: number;
  alerts: ProposalAlert[];
  /** When the bot saw that a person cancelled it (ms since the epoch). */
  declinedAt?: number | undefined;
  /** When the bot saw that it was approved (ms since the epoch). */
  decidedAt?: number | undefined;
}

/**
 * Where proposals live (Redis): one open proposal per target, and the notifications already handled, so a repeated
 * one (Alertmanager re-sends firing alerts every repeat_interval, and after a failed delivery) does nothing.
 */
export interface ProposalStore {
  /** True the first time `key` is seen within `ttlMs`; false for a repeat. */
  firstSeen(key: string, ttlMs: number): Promise<boolean>;
  /** Forgets a notification whose handling failed, so that Alertmanager's retry is handled. */
  forget(key: string): Promise<void>;
  /** The target's open proposal; 'claimed' while one is being made (by this process or another). */
  open(target: string): Promise<OpenProposal | 'claimed' | undefined>;
  /** Takes the target's slot for a new proposal; false when it is taken. */
  claim(target: string, ttlMs: number): Promise<boolean>;
  save(proposal: OpenProposal, ttlMs: number): Promise<void>;
  /** Frees the target's slot (its proposal was decided or expired, or making it failed). */
  release(target: string): Promise<void>;
}

/** What a proposal's message says besides the plan: the headline and a line per alert. */
export interface ProposalWords {
  headline: Text;
  alerts: Text[];
}

/**
 * The chat side of proposals (Slack): the usual plan with Approve and Cancel, marked as proposed. Nothing runs
 * without a person's click: this only posts and rewrites messages.
 */
export interface ProposalBoard {
  /** Posts the request's plan, marked proposed, in its origin channel; returns where. Throws when it cannot. */
  propose(request: RollbackRequest, words: ProposalWords): Promise<{ channel: string; ts: string }>;
  /** Rewrites the proposal's message with the alerts so far (more alerts, one resolved). */
  update(request: RollbackRequest, where: { channel: string; ts: string }, words: ProposalWords): Promise<void>;
}
