import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/slack/command.js';

/** A small seeded generator, so a failure can be replayed with the seed it prints. */
function generator(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, pick, int: (max: number) => Math.floor(next() * max) };
}

const PIECES = [
  'cdn',
  'api',
  'web',
  'to',
  'v41',
  'v',
  '0',
  '99999999999',
  'help',
  'list',
  'status',
  'history',
  'freeze',
  'unfreeze',
  'gate',
  'HELP',
  '<@U0123|bob>',
  '<!channel>',
  '<!here>',
  '<#C0123|ops>',
  '<!subteam^S0SRE>',
  '<https://evil.example|click>',
  '$(reboot)',
  '`id`',
  '; rm -rf /',
  '&& curl x',
  '| sh',
  '../../etc/passwd',
  '--kubeconfig=/x',
  '-n',
  '\\',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\r\n',
  '\t',
  '🔥',
  '👩‍💻',
  'ß',
  'ǅ',
  '\ud800',
  '"',
  "'",
  '*bold*',
  '_it_',
  '~s~',
  '>quote',
  '&amp;',
  '%00',
  '{{x}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${x} is one of the hostile inputs
  '${x}',
  'null',
  'undefined',
  '__proto__',
];

function input(g: ReturnType<typeof generator>): string {
  switch (g.int(4)) {
    case 0: // words people might type, and words they should not
      return Array.from({ length: g.int(8) }, () => g.pick(PIECES)).join(g.pick([' ', '  ', '', '\t', '\n']));
    case 1: // raw code points, control characters and lone surrogates included
      return String.fromCharCode(...Array.from({ length: g.int(40) }, () => g.int(0x10000)));
    case 2: // huge
      return g.pick(PIECES).repeat(200 + g.int(3000));
    default: // a valid command with noise around it
      return `${g.pick(['cdn', 'api', 'CDN', 'freeze cdn', 'UNFREEZE api'])} ${g.pick(['', 'to v', 'to v41 ', 'to '])}${g.pick(PIECES)} ${g.pick(PIECES)}`;
  }
}

// CPU-bound: about 10 s on an idle two-core machine, several times that beside other work. The limit is
// for a hang, not a measure of speed.
describe('parseCommand under 100 000 generated inputs', { timeout: 180_000 }, () => {
  it('answers every input, never throws, and never echoes live Slack markup', () => {
    const seed = 20261122;
    const g = generator(seed);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++) {
      const text = input(g);
      let result: ReturnType<typeof parseCommand>;
      try {
        result = parseCommand(text);
      } catch (error) {
        throw new Error(`seed ${seed}, input #${i} ${JSON.stringify(text.slice(0, 200))} threw: ${String(error)}`);
      }
      counts[result.kind] = (counts[result.kind] ?? 0) + 1;
      if (result.kind === 'invalid') {
        expect(result.message.length).toBeLessThan(400);
        expect(result.message).not.toMatch(/<[@#!]/);
      }
      if (result.kind === 'freeze' || result.kind === 'unfreeze') {
        expect(result.target).toMatch(/^[a-z0-9][a-z0-9._-]{0,62}$/);
        expect(result.reason).not.toBe('');
        expect(result.reason.length).toBeLessThanOrEqual(500);
        expect(result.reason).not.toMatch(/[\u0000-\u001f\u007f]/);
      }
      if (result.kind === 'rollback') {
        expect(result.target).toMatch(/^[a-z0-9][a-z0-9._-]{0,62}$/);
        if (result.toVersion !== undefined) expect(result.toVersion).toMatch(/^\d{1,9}$/);
        expect(result.reason.length).toBeLessThanOrEqual(500);
        expect(result.reason).not.toMatch(/[\u0000-\u001f\u007f]/);
      }
    }
    // Every kind of answer was reached, so the generator exercised the parser, not one branch of it.
    expect(Object.keys(counts).sort()).toEqual([
      'freeze',
      'help',
      'history',
      'invalid',
      'list',
      'rollback',
      'unfreeze',
    ]);
  });
});

describe('parseCommand with rollback.yml names under 20 000 generated inputs', { timeout: 180_000 }, () => {
  it('answers every input; several targets are always known names, each once', () => {
    const seed = 20261202;
    const g = generator(seed);
    const names = { targets: ['cdn', 'api', 'web'], groups: { checkout: ['cdn', 'api'] } };
    const kinds = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const text = `${g.pick(['', 'checkout ', 'CDN api ', 'web checkout '])}${input(g)}`;
      let result: ReturnType<typeof parseCommand>;
      try {
        result = parseCommand(text, names);
      } catch (error) {
        throw new Error(`seed ${seed}, input #${i} ${JSON.stringify(text.slice(0, 200))} threw: ${String(error)}`);
      }
      kinds.add(result.kind);
      if (result.kind === 'invalid') expect(result.message).not.toMatch(/<[@#!]/);
      if (result.kind === 'rollback-many') {
        expect(result.targets.every((target) => names.targets.includes(target))).toBe(true);
        expect(new Set(result.targets).size).toBe(result.targets.length);
        expect(result.reason.length).toBeLessThanOrEqual(500);
        expect(result.reason).not.toMatch(/[\u0000-\u001f\u007f]/);
      }
    }
    expect(kinds).toContain('rollback-many');
    expect(kinds).toContain('rollback');
  });
});
