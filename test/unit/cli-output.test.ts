import { describe, expect, it } from 'vitest';
import { parseVersion } from '../../src/cli/arguments.js';
import { redactUrl } from '../../src/cli/doctor-command.js';
import { EXIT, exitCodeFor } from '../../src/cli/exit-codes.js';
import { frozenLine, gateLines, progressLine } from '../../src/cli/format.js';
import { forTerminal, Output } from '../../src/cli/output.js';
import { terminalText } from '../../src/cli/render-text.js';
import { RollbackError } from '../../src/core/errors.js';
import { channel, command, group, person, text } from '../../src/core/text.js';

describe('the CLI in a terminal', () => {
  it('renders core text for a terminal: people and groups by id, channels as #, suggested commands as the CLI’s own', () => {
    const said = text`approved by ${person('UAPP')} for ${group('S0SRE')} in ${channel('C1')}; ${person('cli:alice')} asked`;
    expect(terminalText(said)).toBe('approved by @UAPP for @S0SRE in #C1; cli:alice asked');
    expect(
      terminalText(text`say so explicitly: ${command({ action: 'rollback-to', target: 'cdn', version: 'v42' })}.`),
    ).toBe('say so explicitly: `rapid-rollback rollback cdn --to v42`.');
    expect(terminalText(text`Run ${command({ action: 'plan', target: 'cdn' })} again for a fresh plan.`)).toBe(
      'Run `rapid-rollback plan cdn` again for a fresh plan.',
    );
    expect(
      terminalText(text`see ${command({ action: 'status' })} and ${command({ action: 'history', target: 'cdn' })}`),
    ).toBe('see `rapid-rollback status` and `rapid-rollback history cdn`');
  });

  it('prints text from people as typed: it never turns into a link or a mention', () => {
    const typed = '<https://evil.example|the runbook> <!channel> & <@U9>';
    expect(terminalText(text`Reason: ${typed}, approved by ${person('UAPP')}`)).toBe(
      `Reason: ${typed}, approved by @UAPP`,
    );
  });

  it('keeps terminal control characters from people and providers out of the terminal', () => {
    expect(
      forTerminal('a\u001b[2Jb\u001b]0;title\u0007c\u001b[31mred\u001b[0m\rover\u0008\u0007 \u009b\u202e|\tend\n'),
    ).toBe('abcred\ufffdover\ufffd\ufffd \ufffd\ufffd|\tend\n');
    const written: string[] = [];
    const out = new Output(false, { write: (t: string) => written.push(t) }, { write: (t: string) => written.push(t) });
    out.line('reason: \u001b[2J<!channel>');
    out.note('\u001b]8;;https://evil\u0007link');
    out.raw('- Requested by: cli:alice — "<!channel> ``` \u001b[2J"');
    expect(written).toEqual(['reason: <!channel>\n', 'link\n', '- Requested by: cli:alice — "<!channel> ``` "\n']);
  });

  it('gives every kind of failure its documented exit code', () => {
    expect(exitCodeFor(new RollbackError('SELF_APPROVAL', 'x'))).toBe(EXIT.refused);
    expect(exitCodeFor(new RollbackError('TARGET_LOCKED', 'x'))).toBe(EXIT.refused);
    expect(exitCodeFor(new RollbackError('UNDO_REFUSED', 'x'))).toBe(EXIT.refused);
    expect(exitCodeFor(new RollbackError('TARGET_UNKNOWN', 'x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new RollbackError('CONFIG_INVALID', 'x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new RollbackError('PROVIDER_AUTH', 'x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new RollbackError('QUEUE_UNAVAILABLE', 'x'))).toBe(EXIT.unreachable);
    expect(exitCodeFor(new RollbackError('PROVIDER_TIMEOUT', 'x'))).toBe(EXIT.unreachable);
    // The gate's contract: 1 frozen, 2 a commit it cannot find, 3 git could not be asked.
    expect(exitCodeFor(new RollbackError('TARGET_FROZEN', 'x'))).toBe(EXIT.refused);
    expect(exitCodeFor(new RollbackError('NOT_FROZEN', 'x'))).toBe(EXIT.refused);
    expect(exitCodeFor(new RollbackError('COMMIT_UNKNOWN', 'x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new RollbackError('GIT_FAILED', 'x'))).toBe(EXIT.unreachable);
    expect(exitCodeFor(new Error('a bug'))).toBe(EXIT.refused);
  });

  it('reads versions as /rollback does, and hides a Redis password', () => {
    expect(parseVersion('v41')).toBe('41');
    expect(parseVersion('007')).toBe('7');
    expect(() => parseVersion('latest')).toThrow(/Name a version like v41/);
    expect(redactUrl('redis://user:s3cret@redis.internal:6380/2')).toBe('redis://user:***@redis.internal:6380/2');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('shows a freeze as status and the gate say it, with what lifts it as the CLI’s own command', () => {
    const since = Date.UTC(2026, 4, 1, 2, 31);
    const freeze = {
      id: 'rb-mwr8euky-a7ngmo',
      target: 'cdn',
      cause: 'rollback' as const,
      since,
      by: 'UAPP',
      reason: 'elevated 5xx',
      from: { id: '42', label: 'v42' },
      restored: { id: '41', label: 'v41' },
    };
    const lift = text`an approved ${command({ action: 'unfreeze', target: 'cdn' })}`;
    expect(frozenLine({ freeze, lift }, since + 60_000)).toBe(
      '🔒 frozen since 02:31 UTC by rb-mwr8euky-a7ngmo (rollback v42 → v41) — lifts with: an approved `rapid-rollback unfreeze cdn --reason <why> --approved-by <user-id>`',
    );
    // Days later the date is said too.
    expect(
      frozenLine({ freeze: { ...freeze, cause: 'manual', id: 'fz-mwr8euky-a7ngmo' }, lift }, since + 3 * 86_400_000),
    ).toMatch(/^🔒 frozen since 2026-05-01 02:31 UTC by fz-mwr8euky-a7ngmo \(by hand, @UAPP: "elevated 5xx"\) — /);
    expect(gateLines({ target: 'cdn', deployable: false, freeze, reason: text`cdn is frozen`, lift })).toEqual([
      '🔒 Not deployable to cdn: cdn is frozen.',
      '   Lifts with: an approved `rapid-rollback unfreeze cdn --reason <why> --approved-by <user-id>`.',
    ]);
    expect(gateLines({ target: 'cdn', deployable: true })).toEqual(['✅ Deployable to cdn: it is not frozen.']);
    expect(progressLine({ at: since, kind: 'frozen', text: text`🔒 cdn is frozen: ${lift}.` })).toBe(
      '   🔒 cdn is frozen: an approved `rapid-rollback unfreeze cdn --reason <why> --approved-by <user-id>`.',
    );
  });
});
