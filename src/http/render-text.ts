import { render, type Suggestion, type Text, type TextRenderer } from '../core/text.js';

/** A suggestion as a person would act on it from a pipeline's log: the Slack command (the bot's home). */
function slashCommand(s: Suggestion): string {
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

/** Core's words in JSON answers: plain text (JSON escapes it), people by id, commands as Slack's. */
const JSON_TEXT: TextRenderer = {
  literal: (words) => words,
  person: (id) => id,
  group: (id) => id,
  channel: (id) => id,
  command: (s) => `\`${slashCommand(s)}\``,
};

export function jsonText(value: Text | string): string {
  return render(value, JSON_TEXT);
}
