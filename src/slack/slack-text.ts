/**
 * Text from people (reasons, CLI user names, button values) and from providers (version comments, Helm
 * app versions, service names, command output) as it goes into Slack text. The bot's own markup (the
 * mentions mention() makes, channel links, *bold*) stays live; such text never does, wherever it lands.
 */

const ZERO_WIDTH_SPACE = '\u200b';

/**
 * Text made inert in Slack mrkdwn: `&`, `<` and `>` become entities, as Slack asks, so no mention,
 * broadcast or disguised link comes through; and no run of three backticks is left, so it cannot open or
 * close a code block. Slack shows the text as it was typed.
 */
export function escapeForSlack(text: string): string {
  return withoutFences(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

/** Raw text (command output) as the inside of a ``` block: escaped, and unable to close the block. */
export function codeBlockText(text: string): string {
  return fenceSafe(escapeForSlack(text));
}

/**
 * Slack text whose person and provider parts are escaped already (the incident record, with its live
 * mentions) made unable to close the ``` block it is put in.
 */
export function fenceSafe(slackText: string): string {
  const text = withoutFences(slackText);
  return `${text.startsWith('`') ? ZERO_WIDTH_SPACE : ''}${text}${text.endsWith('`') ? ZERO_WIDTH_SPACE : ''}`;
}

/** A zero-width space before every backtick that follows two others: "```" shows as three, but is no fence. */
function withoutFences(text: string): string {
  return text.replace(/(?<=``)`/g, `${ZERO_WIDTH_SPACE}\``);
}
