import { render, type Suggestion, type Text, type TextRenderer } from '../core/text.js';
import { escapeForSlack } from './slack-text.js';

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** A suggestion as the slash command a person types in Slack (the HTTP API writes it so too). */
export function slashCommand(s: Suggestion): string {
  switch (s.action) {
    case 'plan':
      return `/rollback ${s.target}`;
    case 'rollback-to':
      return `/rollback ${s.target} to ${s.version}`;
    case 'status':
      return '/rollback status';
    case 'history':
      return `/rollback history${s.target ? ` ${s.target}` : ''}`;
    case 'resume':
      return `rapid-rollback resume ${s.requestId}`;
    case 'unfreeze':
      return `/rollback unfreeze ${s.target} <reason>`;
    case 'freeze':
      return `/rollback freeze ${s.target} <reason>`;
  }
}

/** Core's words in Slack mrkdwn: literal text escaped, people as mentions, commands as code. */
export const SLACK: TextRenderer = {
  literal: escapeForSlack,
  person: (id) => (SLACK_USER.test(id) ? `<@${id}>` : escapeForSlack(id)),
  group: (id) => `<!subteam^${escapeForSlack(id)}>`,
  channel: (id) => `<#${escapeForSlack(id)}>`,
  command: (s) => `\`${escapeForSlack(slashCommand(s))}\``,
};

export function renderText(value: Text | string): string {
  return render(value, SLACK);
}

/** A person as Slack shows them: a Slack user ID becomes a mention; anyone else (`cli:alice`) is shown as written. */
export function mention(id: string | undefined): string {
  return id ? SLACK.person(id) : 'someone';
}
