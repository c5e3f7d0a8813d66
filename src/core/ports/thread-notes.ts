import type { ThreadRef } from '../request.js';
import type { Text } from '../text.js';

/**
 * A line in a rollback's thread after the rollback itself (a deploy the gate refused, a freeze lifted): Slack
 * posts it; where no chat is reachable the line goes to the log. Implementations never reject.
 */
export interface ThreadNotes {
  post(thread: ThreadRef, words: Text): Promise<void>;
  /** A line in the incident channel itself (a drift warning: the people watching the incident must see it). */
  broadcast(words: Text): Promise<void>;
  /**
   * A line with a button that puts back what a rollback suspended of a GitOps controller (offered when its freeze
   * ends); the click comes back as FreezeService.resumeGitOps(requestId, …).
   */
  offerResume(thread: ThreadRef, words: Text, offer: { requestId: string; label: string }): Promise<void>;
}
