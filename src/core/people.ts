import { escapeForSlack } from './slack-text.js';

/** A person as Slack shows them: a Slack user ID becomes a mention; anyone else (`cli:alice`) is shown as written, never as markup. */
export function mention(id: string | undefined): string {
  if (!id) return 'someone';
  return /^[UW][A-Z0-9]{2,}$/.test(id) ? `<@${id}>` : escapeForSlack(id);
}
