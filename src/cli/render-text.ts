import { render, type Suggestion, type Text, type TextRenderer } from '../core/text.js';

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** A suggestion as the CLI's own command. */
function cliCommand(s: Suggestion): string {
  switch (s.action) {
    case 'plan':
      return `rapid-rollback plan ${s.target}`;
    case 'rollback-to':
      return `rapid-rollback rollback ${s.target} --to ${s.version}`;
    case 'status':
      return 'rapid-rollback status';
    case 'history':
      return `rapid-rollback history${s.target ? ` ${s.target}` : ''}`;
    case 'resume':
      return `rapid-rollback resume ${s.requestId}`;
    case 'unfreeze':
      return `rapid-rollback unfreeze ${s.target} --reason <why> --approved-by <user-id>`;
    case 'freeze':
      return `rapid-rollback freeze ${s.target} --reason <why>`;
  }
}

/**
 * Core's words in a terminal: literal text as written (Output strips control characters when it prints),
 * Slack people as @U…, other names as written, commands as the CLI's own.
 */
export const TERMINAL: TextRenderer = {
  literal: (words) => words,
  person: (id) => (SLACK_USER.test(id) ? `@${id}` : id),
  group: (id) => `@${id}`,
  channel: (id) => `#${id}`,
  command: (s) => `\`${cliCommand(s)}\``,
};

export function terminalText(value: Text | string): string {
  return render(value, TERMINAL);
}
