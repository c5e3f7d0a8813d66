import { short } from './message-text.js';
import type { RevertSubject } from './revert-subject.js';

/** The runbook's commands, filled in: what to run by hand when the bot cannot make the branch. */
export function manualSteps(
  s: Pick<RevertSubject, 'repo' | 'base' | 'branch'>,
  good: string,
  options: { merges?: boolean; conflicts?: boolean } = {},
): string {
  const revert = options.merges
    ? `git revert --no-commit -m 1 $(git rev-list --first-parent ${good}..HEAD)`
    : `git revert --no-commit ${good}..HEAD`;
  const start = `In a clone of ${s.repo}: git fetch origin && git checkout -b ${s.branch} origin/${s.base} && ${revert}`;
  const finish = `git commit && git push -u origin ${s.branch}`;
  return options.conflicts
    ? `${start}\nthen resolve the conflicts and \`git add\` the files, then: ${finish}`
    : `${start} && ${finish}`;
}

/** By hand, when reverting commits cannot give back the good files: take its files as they are. */
export function manualTree(s: Pick<RevertSubject, 'repo' | 'base' | 'branch'>, good: string): string {
  return `In a clone of ${s.repo}: git fetch origin && git checkout -b ${s.branch} origin/${s.base} && git read-tree -u --reset ${short(good)} && git commit && git push -u origin ${s.branch}`;
}
