import { render, type Text, type TextRenderer } from '../core/text.js';
import { slashCommand } from '../slack/render-text.js';

/**
 * Core's words in JSON answers: plain text (JSON escapes it), people by id, commands as Slack's slash commands
 * (a person reading a pipeline's log acts from Slack).
 */
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
