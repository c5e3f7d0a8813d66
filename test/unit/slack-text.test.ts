import { describe, expect, it } from 'vitest';
import { timelineText } from '../../src/core/incident-record.js';
import { channel, command, group, person, text } from '../../src/core/text.js';
import { slackStepText } from '../../src/slack/blocks/progress-text.js';
import { mention, renderText, SLACK } from '../../src/slack/render-text.js';
import { codeBlockText, escapeForSlack, fenceSafe } from '../../src/slack/slack-text.js';

const ZWSP = '\u200b';
/** A code block's inside as Slack reads it: it ends at the first ``` run. */
const fenceCount = (text: string) => (text.match(/```/g) ?? []).length;

describe('text from people and providers in Slack text', () => {
  it('escapes & < > as Slack asks, and leaves no ``` run', () => {
    expect(escapeForSlack('<!channel> & <https://x|y> <@U1>')).toBe(
      '&lt;!channel&gt; &amp; &lt;https://x|y&gt; &lt;@U1&gt;',
    );
    expect(escapeForSlack('a ``` b ```` c ` d `` e')).toBe(`a \`\`${ZWSP}\` b \`\`${ZWSP}\`${ZWSP}\` c \` d \`\` e`);
    expect(escapeForSlack('plain words, *bold* and `code`')).toBe('plain words, *bold* and `code`');
    // Escaping twice shows the entity, never markup; fences stay broken.
    expect(escapeForSlack(escapeForSlack('<x> ```'))).toBe(`&amp;lt;x&amp;gt; \`\`${ZWSP}\``);
  });

  it('code block text cannot close its block, even at its edges', () => {
    for (const output of ['```', 'x\n```\n<!channel>', '``', '`a`', '````````']) {
      const block = `\`\`\`${codeBlockText(output)}\`\`\``;
      expect(fenceCount(block), output).toBe(2);
      expect(block.startsWith('```') && block.endsWith('```')).toBe(true);
      expect(block.slice(3, -3)).not.toMatch(/^`|`$/);
    }
    expect(codeBlockText('<@U1> & done')).toBe('&lt;@U1&gt; &amp; done');
    expect(fenceSafe('requested by <@U1>: "&lt;!channel&gt;" ```')).toBe(
      `requested by <@U1>: "&lt;!channel&gt;" \`\`${ZWSP}\`${ZWSP}`,
    );
  });

  it('a step keeps its one code block around the output, and everything else escaped', () => {
    const step = 'Output:\n```\nmigrated <!channel>\n```\n<@U9> ``` done\n```';
    const text = slackStepText(step);
    expect(fenceCount(text)).toBe(2);
    expect(text).toBe(
      `Output:\n\`\`\`\nmigrated &lt;!channel&gt;\n\`\`${ZWSP}\`\n&lt;@U9&gt; \`\`${ZWSP}\` done\n\`\`\``,
    );
    expect(slackStepText('Checked: v42 is live on <!here>, `x` ```')).toBe(
      `Checked: v42 is live on &lt;!here&gt;, \`x\` \`\`${ZWSP}\``,
    );
  });

  it('mentions Slack user IDs, and shows any other name as written', () => {
    expect(mention('U0123ABC')).toBe('<@U0123ABC>');
    expect(mention('cli:alice')).toBe('cli:alice');
    expect(mention('cli:<!channel>')).toBe('cli:&lt;!channel&gt;');
    expect(mention(undefined)).toBe('someone');
  });

  it('core text in Slack: words escaped, references as mentions, groups, channels and slash commands', () => {
    const said = text`${person('U123')} asked: "<!channel> <https://x|y> & ${'```'}" for ${group('S1')} in ${channel('C1')}; run ${command({ action: 'rollback-to', target: 'cdn', version: 'v42' })}`;
    expect(renderText(said)).toBe(
      `<@U123> asked: "&lt;!channel&gt; &lt;https://x|y&gt; &amp; \`\`${ZWSP}\`" for <!subteam^S1> in <#C1>; run \`/rollback cdn to v42\``,
    );
    // A timeline event written as plain words (the worker's steps): all of it escaped.
    expect(timelineText({ at: 0, kind: 'step', text: 'Activated <@U1> ```' }, SLACK)).toBe(
      `Activated &lt;@U1&gt; \`\`${ZWSP}\``,
    );
    expect(timelineText({ at: 0, kind: 'approved', by: 'U1', text: text`approved by ${person('U123')}` }, SLACK)).toBe(
      'approved by <@U123>',
    );
  });
});
