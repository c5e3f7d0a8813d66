import { describe, expect, it } from 'vitest';
import { parseVersion } from '../../src/cli/arguments.js';
import { redactUrl } from '../../src/cli/doctor-command.js';
import { EXIT, exitCodeFor } from '../../src/cli/exit-codes.js';
import { forTerminal, Output, plain } from '../../src/cli/output.js';
import { RollbackError } from '../../src/core/errors.js';
import { escapeForSlack } from '../../src/core/slack-text.js';

describe('the CLI in a terminal', () => {
  it('turns Slack mrkdwn into plain text, and slash commands into the CLI’s own', () => {
    expect(plain('Approvers: <@UAPP>, <!subteam^S0SRE>. Ask in <#C1|incidents> or <#C2>.')).toBe(
      'Approvers: @UAPP, @S0SRE. Ask in #incidents or #C2.',
    );
    expect(plain('<https://slack.com/archives/C1/p1|thread> and <https://example.com>')).toBe(
      'thread (https://slack.com/archives/C1/p1) and https://example.com',
    );
    expect(plain('say so explicitly: `/rollback cdn to v42`.')).toBe(
      'say so explicitly: `rapid-rollback rollback cdn --to v42`.',
    );
    expect(plain('Run `/rollback cdn` again for a fresh plan.')).toBe(
      'Run `rapid-rollback plan cdn` again for a fresh plan.',
    );
    expect(plain('see `/rollback list` and `/rollback history cdn`')).toBe(
      'see `rapid-rollback status` and `rapid-rollback history cdn`',
    );
    expect(plain('reason: 5xx &lt;b&gt; &amp; more')).toBe('reason: 5xx <b> & more');
  });

  it('prints text from people as typed: escaped in Slack text, it never turns into a link or a mention', () => {
    const typed = '<https://evil.example|the runbook> <@U999> <!channel> ``` & &lt;';
    expect(plain(`Reason: ${escapeForSlack(typed)}, approved by <@UAPP>`)).toBe(`Reason: ${typed}, approved by @UAPP`);
  });

  it('keeps terminal control characters from people and providers out of the terminal', () => {
    expect(
      forTerminal('a\u001b[2Jb\u001b]0;title\u0007c\u001b[31mred\u001b[0m\rover\u0008\u0007 \u009b\u202e|\tend\n'),
    ).toBe('abcred\ufffdover\ufffd\ufffd \ufffd\ufffd|\tend\n');
    const written: string[] = [];
    const out = new Output(false, { write: (t: string) => written.push(t) }, { write: (t: string) => written.push(t) });
    out.line('reason: \u001b[2J&lt;!channel&gt;');
    out.note('\u001b]8;;https://evil\u0007link');
    out.raw(`- Requested by: cli:alice — "${escapeForSlack('<!channel> ``` \u001b[2J')}"`);
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
    expect(exitCodeFor(new Error('a bug'))).toBe(EXIT.refused);
  });

  it('reads versions as /rollback does, and hides a Redis password', () => {
    expect(parseVersion('v41')).toBe('41');
    expect(parseVersion('007')).toBe('7');
    expect(() => parseVersion('latest')).toThrow(/Name a version like v41/);
    expect(redactUrl('redis://user:s3cret@redis.internal:6380/2')).toBe('redis://user:***@redis.internal:6380/2');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
