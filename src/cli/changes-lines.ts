import { changeWords } from '../core/changes-text.js';
import type { Plan } from '../core/types.js';

/** What the plan changes, as terminal lines under the plan (the same words as Slack's "What changes"). */
export function changeLines(plan: Plan): string[] {
  const words = changeWords(plan);
  if (words.length === 0) return [];
  return ['  What changes:', ...words.flatMap((w) => [`    ${w.title}`, ...w.lines.map((l) => `      ${l}`)])];
}
