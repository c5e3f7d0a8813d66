import type { ThreadRef } from '../request.js';
import type { Text } from '../text.js';

/**
 * A line in a rollback's thread after the rollback itself (a deploy the gate refused, a freeze lifted): Slack
 * posts it; where no chat is reachable the line goes to the log. Implementations never reject.
 */
export interface ThreadNotes {
  post(thread: ThreadRef, words: Text): Promise<void>;
}
