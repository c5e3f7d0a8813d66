import type { BlockAction, ButtonAction, RespondArguments, RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { RequestOrigin } from '../../core/request.js';
import type { Logger } from '../../log.js';

/** A button click, as every listener needs it. */
export interface Click {
  /** The button's value: the request (rollback or unfreeze) it belongs to. */
  requestId: string;
  user: string;
  /** The message the button was in: core refuses a click from any other message than the request's. */
  from: RequestOrigin;
  /** Answers the clicker (response_url); a modal's submission, which has none, answers with an ephemeral. */
  respond: (message: RespondArguments) => Promise<unknown>;
  client: WebClient;
  /** Opens a modal in answer to the click (views.open), within 3 s of it. */
  triggerId?: string | undefined;
}

export function clickOf(body: BlockAction, action: ButtonAction, respond: RespondFn, client: WebClient): Click {
  return {
    requestId: action.value ?? '',
    user: body.user.id,
    from: {
      channel: body.channel?.id ?? body.container?.channel_id ?? '',
      messageTs: body.message?.ts ?? body.container?.message_ts,
    },
    respond,
    client,
    triggerId: body.trigger_id,
  };
}

/** Only the clicker sees it; never throws. */
export async function tellClicker(click: Click, text: string, log: Logger): Promise<void> {
  await click
    .respond({ response_type: 'ephemeral', replace_original: false, text })
    .catch((err: unknown) => log.warn({ err }, 'could not answer the clicker'));
}

/** Rewrites a request message: by the Web API when the bot posted it, else through the response_url. */
export async function rewriteMessage(
  click: Click,
  origin: RequestOrigin,
  message: { text: string; blocks: unknown[] },
  log: Logger,
): Promise<void> {
  try {
    if (origin.messageTs) {
      await click.client.chat.update({
        channel: origin.channel,
        ts: origin.messageTs,
        ...(message as { text: string }),
      });
    } else {
      await click.respond({ replace_original: true, ...(message as { text: string }) });
    }
  } catch (err) {
    log.warn({ err }, 'could not update the request message');
  }
}
