import { describe, expect, it } from 'vitest';
import { changeLines } from '../../src/cli/changes-lines.js';
import type { PlanChange } from '../../src/core/changes.js';
import { changeWords } from '../../src/core/changes-text.js';
import type { Plan } from '../../src/core/types.js';
import { diffMessages } from '../../src/slack/diff-messages.js';

function plan(changes: PlanChange[]): Plan {
  return {
    target: 'web',
    kind: 'kubernetes',
    resource: 'deployment/web in prod',
    from: { id: 'web-2', label: 'revision 2' },
    to: { id: 'web-1', label: 'revision 1' },
    selection: 'history',
    notes: [],
    steps: ['a', 'b'],
    budgetMs: 1,
    actionDone: 'done',
    changes,
  };
}

describe("a plan's changes in words", () => {
  it('says each kind the way the plan shows it, with "and N more" past the names it lists', () => {
    const words = changeWords(
      plan([
        { kind: 'values-keys', keys: Array.from({ length: 23 }, (_, i) => `key${i}`) },
        {
          kind: 'pod-template',
          differences: [
            { container: 'web', field: 'image', from: 'web:2', to: 'web:1' },
            { container: 'web', field: 'env', added: ['A'], removed: [], changed: ['B', 'C'] },
            { container: 'sidecar', field: 'container', change: 'removed' },
          ],
        },
        {
          kind: 'commits',
          repo: 'git@example.com:acme/web.git',
          commits: [{ sha: 'abc1234', subject: 'Fix', author: 'Dev' }],
          more: 4,
        },
        { kind: 'unavailable', about: 'diff', reason: 'Fastly did not answer.' },
      ]),
    );
    expect(words).toEqual([
      {
        title: 'Values keys that differ (names only), revision 2 → revision 1',
        lines: [`${Array.from({ length: 20 }, (_, i) => `key${i}`).join(', ')} and 3 more`],
      },
      {
        title: 'Pod template differences, revision 2 → revision 1',
        lines: [
          'web: image web:2 → web:1',
          'web: env A added; B, C changed (names only)',
          'sidecar: container goes away',
        ],
      },
      {
        title: 'Commits taken out of production (git@example.com:acme/web.git)',
        lines: ['abc1234 Fix — Dev', 'and 4 more'],
      },
      { title: 'diff not available: Fastly did not answer.', lines: [] },
    ]);
    expect(changeLines(plan([{ kind: 'values-keys', keys: [] }]))).toEqual([
      '  What changes:',
      '    Values keys that differ (names only), revision 2 → revision 1',
      '      none: the values are the same',
    ]);
    expect(changeLines(plan([]))).toEqual([]);
    // What the driver kept (fifty names) and what it only counted.
    const kept = changeWords(
      plan([{ kind: 'values-keys', keys: Array.from({ length: 50 }, (_, i) => `k${i}`), more: 7 }]),
    );
    expect(kept[0]?.lines[0]).toMatch(/, k19 and 37 more$/);
    const objects = changeWords(
      plan([{ kind: 'config-diff', added: 1, removed: 0, objects: [{ type: 'acl', name: 'block' }], moreObjects: 3 }]),
    );
    expect(objects[0]?.lines).toEqual(['+1 −0 lines', 'ACLs: block · and 3 more objects']);
  });
});

describe('diffMessages (Show diff)', () => {
  const header = (i: number, n: number) => `part ${i} of ${n}`;

  it('keeps every part under the room, each one code block, lines whole and in order', () => {
    const lines = Array.from({ length: 500 }, (_, i) => `+line ${i} ${'x'.repeat(40)}`);
    const parts = diffMessages(lines.join('\n'), header, 4_000);
    expect(parts.length).toBeGreaterThan(5);
    for (const [i, part] of parts.entries()) {
      expect(part.startsWith(`part ${i + 1} of ${parts.length}\n\`\`\`\n`)).toBe(true);
      expect(part.length).toBeLessThan(4_000 + 100);
      expect(part.match(/```/g)).toHaveLength(2);
    }
    expect(parts.flatMap((p) => p.split('\n').slice(2, -1))).toEqual(lines);
  });

  it('cuts a line longer than a part, and says how many lines were left past ten parts', () => {
    const long = `+${'<'.repeat(5_000)}`;
    const parts = diffMessages(long, header, 4_000);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThan(4_100);
    expect(parts.join('')).not.toContain('<');

    const many = diffMessages(
      Array.from({ length: 2_000 }, (_, i) => `+${i} ${'y'.repeat(40)}`).join('\n'),
      header,
      4_000,
    );
    expect(many).toHaveLength(10);
    expect(many.at(-1)).toMatch(/\n_\d+ more lines not shown: see the diff in Fastly's web interface._$/);
  });
});
