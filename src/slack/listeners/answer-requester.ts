import type { RespondFn } from '@slack/bolt';
import { isRollbackError, toRollbackError } from '../../core/errors.js';
import type { ThreadRef } from '../../core/request.js';
import type { Logger } from '../../log.js';
import { threadLink } from '../post-to-channel.js';
import { renderText } from '../render-text.js';

/** An answer only the person who typed the command sees. */
export function ephemeral(text: string) {
  return { response_type: 'ephemeral' as const, text };
}

/** Tells the requester what went wrong, only to them; never throws. */
export async function refuse(respond: RespondFn, error: unknown, log: Logger): Promise<void> {
  // Redis down is an outage to report in words, not a bug: the requester hears it at once.
  const coded = toRollbackError(error);
  if (coded.code === 'QUEUE_UNAVAILABLE') log.warn({ err: error }, 'rollback command: Redis is not answering');
  else if (!isRollbackError(error)) log.error({ err: error }, 'rollback command failed');
  const thread = coded.code === 'TARGET_LOCKED' ? (coded.details.thread as ThreadRef | undefined) : undefined;
  const link = thread
    ? `
Follow it here: ${threadLink(thread)}`
    : '';
  await respond(ephemeral(`❌ ${renderText(coded.userText())}${link}`)).catch((err: unknown) =>
    log.warn({ err }, 'could not answer the requester'),
  );
}
