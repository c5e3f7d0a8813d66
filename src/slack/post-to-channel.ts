import type { ChatPostMessageArguments, WebClient } from '@slack/web-api';
import { RollbackError } from '../core/errors.js';
import { channel, text } from '../core/text.js';

function slackError(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

/**
 * Posts in a channel, joining it first when the bot is not a member of a public channel.
 * A private channel the bot is not in cannot be joined: the error says what a person must do.
 */
export async function postInChannel(
  client: WebClient,
  message: ChatPostMessageArguments & { channel: string },
): Promise<{ channel: string; ts: string }> {
  try {
    return asPosted(await client.chat.postMessage(message), message.channel);
  } catch (error) {
    const code = slackError(error);
    if (code === 'not_in_channel') {
      await client.conversations.join({ channel: message.channel }).catch((joinError: unknown) => {
        throw unreachable(message.channel, slackError(joinError) ?? String(joinError));
      });
      return asPosted(await client.chat.postMessage(message), message.channel);
    }
    if (code === 'channel_not_found' || code === 'is_archived' || code === 'restricted_action')
      throw unreachable(message.channel, code);
    throw error;
  }
}

function asPosted(result: { ts?: string; channel?: string }, channel: string) {
  if (!result.ts) throw new Error('Slack accepted the message but returned no ts');
  return { channel: result.channel ?? channel, ts: result.ts };
}

function unreachable(id: string, code: string): RollbackError {
  return new RollbackError('SLACK_CHANNEL_UNREACHABLE', text`I cannot post in ${channel(id)} (${code}).`, {
    hint: text`If it is a private channel, invite me there: \`/invite @Rapid Rollback\` in ${channel(id)}.`,
  });
}

/** A link to a message that works in any workspace (Slack redirects it). */
export function threadLink(thread: { channel: string; ts: string }): string {
  return `https://slack.com/archives/${thread.channel}/p${thread.ts.replace('.', '')}`;
}

export { slackError };
