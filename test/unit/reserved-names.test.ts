import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RESERVED_TARGET_NAMES } from '../../src/core/names.js';
import { parseCommand } from '../../src/slack/command.js';

describe('reserved target names', () => {
  it('are the words README.md lists in its rollback.yml section', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const sentence = /cannot be target names: ([^\n]*?)\.(?:\s|$)/.exec(readme)?.[1];
    expect(sentence, 'README.md: "… cannot be target names: `help`, `list`, …."').toBeDefined();
    expect([...(sentence ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1])).toEqual([...RESERVED_TARGET_NAMES]);
  });

  it('are each read by /rollback as its own command, never as a target', () => {
    for (const name of RESERVED_TARGET_NAMES) expect(parseCommand(`${name} x y`).kind).not.toBe('rollback');
  });
});
