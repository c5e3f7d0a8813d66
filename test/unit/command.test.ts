import { describe, expect, it } from 'vitest';
import { closestName } from '../../src/core/names.js';
import { parseCommand } from '../../src/slack/command.js';
import { escapeForSlack } from '../../src/slack/slack-text.js';

describe('parseCommand', () => {
  it('reads a target and a reason', () => {
    expect(parseCommand('cdn elevated 5xx after deploy')).toEqual({
      kind: 'rollback',
      target: 'cdn',
      toVersion: undefined,
      reason: 'elevated 5xx after deploy',
    });
  });

  it('reads an explicit version with or without the v', () => {
    expect(parseCommand('cdn to v41 bad vcl')).toEqual({
      kind: 'rollback',
      target: 'cdn',
      toVersion: '41',
      reason: 'bad vcl',
    });
    expect(parseCommand('cdn to 041')).toEqual({ kind: 'rollback', target: 'cdn', toVersion: '41', reason: '' });
  });

  it('is case-insensitive for the target and the keywords', () => {
    expect(parseCommand('  CDN  To V7 ')).toMatchObject({ kind: 'rollback', target: 'cdn', toVersion: '7' });
    expect(parseCommand('HELP')).toEqual({ kind: 'help' });
    expect(parseCommand('List')).toEqual({ kind: 'list' });
  });

  it('answers an empty command with help', () => {
    expect(parseCommand('')).toEqual({ kind: 'help' });
    expect(parseCommand('   \t ')).toEqual({ kind: 'help' });
  });

  it('explains a missing or malformed version', () => {
    const result = parseCommand('cdn to latest');
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.message).toContain('/rollback cdn to v41');
  });

  it('refuses a target that is not a name, without echoing markup', () => {
    const result = parseCommand('<@U123|bob> now');
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') {
      expect(result.message).not.toContain('<@U123');
      expect(result.message).toContain('&lt;@U123');
    }
    expect(parseCommand('cdn;rm -rf /').kind).toBe('invalid');
    expect(parseCommand('../etc/passwd').kind).toBe('invalid');
  });

  it('treats control characters as spaces so they cannot hide a word', () => {
    expect(parseCommand('cdn\u0000to\u200bv3')).toMatchObject({ kind: 'rollback', target: 'cdn', toVersion: '3' });
  });

  it('refuses huge inputs and long reasons with a number', () => {
    const huge = parseCommand(`cdn ${'x'.repeat(5_000)}`);
    expect(huge.kind === 'invalid' && huge.message).toMatch(/5004 characters/);
    const long = parseCommand(`cdn ${'y'.repeat(600)}`);
    expect(long.kind === 'invalid' && long.message).toMatch(/reason is 600 characters/);
  });
});

describe('parseCommand: freeze and unfreeze', () => {
  it('reads a target and a reason', () => {
    expect(parseCommand('freeze cdn bad deploy, hold everything')).toEqual({
      kind: 'freeze',
      target: 'cdn',
      reason: 'bad deploy, hold everything',
    });
    expect(parseCommand('  UNFREEZE  CDN  fixed forward in #123 ')).toEqual({
      kind: 'unfreeze',
      target: 'cdn',
      reason: 'fixed forward in #123',
    });
  });

  it('keeps "to" as part of the reason', () => {
    expect(parseCommand('freeze cdn to v41 is live')).toEqual({
      kind: 'freeze',
      target: 'cdn',
      reason: 'to v41 is live',
    });
  });

  it('asks for the target, then for a reason, with the usage', () => {
    const noTarget = parseCommand('freeze');
    expect(noTarget.kind === 'invalid' && noTarget.message).toBe(
      'Name the target and say why: `/rollback freeze <target> <reason>`.',
    );
    const noReason = parseCommand('unfreeze cdn');
    expect(noReason.kind === 'invalid' && noReason.message).toMatch(
      /^Say why: `\/rollback unfreeze cdn <reason>`\. The reason goes in the record/,
    );
    expect(parseCommand('freeze cdn \u0000 \u200b').kind).toBe('invalid');
  });

  it('refuses a target that is not a name, without echoing markup', () => {
    const result = parseCommand('unfreeze <!channel> now');
    expect(result.kind === 'invalid' && result.message).toBe(
      '"&lt;!channel&gt;" is not a target name. Usage: `/rollback unfreeze <target> <reason>`.',
    );
  });

  it('refuses a long reason as for a rollback', () => {
    const long = parseCommand(`freeze cdn ${'y'.repeat(600)}`);
    expect(long.kind === 'invalid' && long.message).toMatch(/reason is 600 characters/);
    expect(parseCommand(`unfreeze cdn ${'y'.repeat(500)}`).kind).toBe('unfreeze');
  });

  it('answers "gate" with where the gate is, not as a target', () => {
    const gate = parseCommand('gate cdn');
    expect(gate.kind === 'invalid' && gate.message).toContain('`/rollback status` shows which targets are frozen');
  });
});

describe('closestName', () => {
  it('suggests a near miss and nothing for a far one', () => {
    expect(closestName('cnd', ['cdn', 'api'])).toBe('cdn');
    expect(closestName('database', ['cdn', 'api'])).toBeUndefined();
  });
});

describe('escapeForSlack', () => {
  it('neutralises mentions and links', () => {
    expect(escapeForSlack('<!channel> & <https://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;https://x|y&gt;');
  });
});

describe('parseCommand with rollback.yml names (several targets)', () => {
  const names = { targets: ['cdn', 'api', 'web', 'constructor'], groups: { checkout: ['cdn', 'api'] } };

  it('reads the leading target and group names as the targets and the rest as the reason', () => {
    expect(parseCommand('cdn api 5xx after deploy', names)).toEqual({
      kind: 'rollback-many',
      name: 'cdn + api',
      targets: ['cdn', 'api'],
      reason: '5xx after deploy',
    });
    // Every leading name counts, even one meant as the first word of the reason (the README says so).
    expect(parseCommand('Checkout checkout is down', names)).toEqual({
      kind: 'rollback-many',
      name: 'checkout',
      targets: ['cdn', 'api'],
      reason: 'is down',
    });
    expect(parseCommand('checkout web api', names)).toEqual({
      kind: 'rollback-many',
      name: 'cdn + api + web',
      targets: ['cdn', 'api', 'web'],
      reason: '',
    });
  });

  it('keeps one target (and "to vN") on the single-target path', () => {
    expect(parseCommand('cdn to v41 bad vcl', names)).toEqual({
      kind: 'rollback',
      target: 'cdn',
      toVersion: '41',
      reason: 'bad vcl',
    });
    expect(parseCommand('cdn cdn is down', names)).toEqual({
      kind: 'rollback',
      target: 'cdn',
      toVersion: undefined,
      reason: 'cdn is down',
    });
    expect(parseCommand('cdn api down', { targets: ['cdn'], groups: {} })).toMatchObject({ kind: 'rollback' });
  });

  it('refuses "to vN" with several targets, and says how to ask', () => {
    const parsed = parseCommand('checkout to v41', names);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.message).toMatch(/names one target's version.*leave it out/);
  });

  it('does not read inherited object keys as groups', () => {
    expect(parseCommand('constructor toString x', names)).toMatchObject({ kind: 'rollback', target: 'constructor' });
    expect(parseCommand('constructor api', names)).toEqual({
      kind: 'rollback-many',
      name: 'constructor + api',
      targets: ['constructor', 'api'],
      reason: '',
    });
  });
});
