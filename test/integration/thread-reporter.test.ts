import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RollbackJobData } from '../../src/core/ports/queue.js';
import type { FinishedRollback } from '../../src/core/run-rollback.js';
import type { Plan } from '../../src/core/types.js';
import { silentLogger } from '../../src/log.js';
import { createSlackClient } from '../../src/slack/app.js';
import { SlackThreadReporter, type ThreadReporterOptions } from '../../src/slack/thread-reporter.js';
import { SlackSimulator, textOf } from '../support/slack-simulator.js';

/**
 * How a rollback reads in its thread: a few messages, in order, the last one the outcome. The reporter
 * talks to the Slack simulator through the real Web API client.
 */
let slack: SlackSimulator;
beforeAll(async () => {
  slack = await SlackSimulator.start();
  slack.addChannel({ id: 'CINC', name: 'incidents' });
});
afterAll(async () => slack?.close());

const plan = {
  target: 'cdn',
  resource: 'Fastly service www-prod',
  from: { id: '42', label: 'v42' },
  to: { id: '41', label: 'v41' },
  budgetMs: 60_000,
  actionDone: 'Activated v41',
} as unknown as Plan;

function finished(followUps: FinishedRollback['followUps'] = []): FinishedRollback {
  const job: RollbackJobData = {
    requestId: 'rb-test-000001',
    plan,
    requester: 'UREQ',
    approver: 'UAPP',
    approvedAt: Date.now() - 400,
    reason: '',
  };
  return {
    job,
    outcome: {
      status: 'succeeded',
      live: plan.to,
      checks: [{ name: 'Active version', ok: true, detail: 'Fastly reports v41 active' }],
      error: undefined,
      changed: true,
      applied: true,
    },
    sinceApprovalMs: 400,
    runMs: 390,
    followUps,
  };
}

async function thread(options: ThreadReporterOptions = {}) {
  slack.setLatency(0);
  const client = createSlackClient({ botToken: slack.botToken, apiUrl: slack.apiUrl }, silentLogger());
  const root = await client.chat.postMessage({ channel: 'CINC', text: 'Rolling back cdn to v41' });
  const reporter = new SlackThreadReporter(
    client,
    { channel: 'CINC', ts: root.ts! },
    undefined,
    silentLogger(),
    options,
  );
  return { reporter, messages: () => slack.thread('CINC', root.ts!).map(textOf) };
}

describe('the thread of a rollback', () => {
  it('steps reported close together arrive as one message, and the outcome comes with the verification', async () => {
    const { reporter, messages } = await thread();
    reporter.report({ status: 'info', text: 'Worker started 3 ms after approval.' });
    reporter.report({
      status: 'ok',
      text: 'Checked: v42 is live on Fastly service www-prod, as planned',
      durationMs: 100,
    });
    reporter.report({ status: 'ok', text: 'Activated v41', durationMs: 100 });
    await new Promise((r) => setTimeout(r, 400)); // longer than the linger: the next lines start a new message
    reporter.report({ status: 'ok', text: 'Verify active version: Fastly reports v41 active', durationMs: 100 });
    reporter.finish(finished());
    await reporter.flush();

    const [steps, outcome, checklist, ...rest] = messages();
    expect(rest).toEqual([]);
    expect(steps).toMatch(
      /^ℹ️ Worker started 3 ms after approval\.\n✅ Checked: v42 is live .*\n✅ Activated v41 \(100 ms\)$/,
    );
    expect(outcome).toMatch(
      /^✅ Verify active version: Fastly reports v41 active \(100 ms\)\n✅ \*cdn is back on v41\*, verified\./,
    );
    expect(checklist).toMatch(/^📋 \*After the rollback\*/);
  });

  it('a failure goes out at once, without waiting for more lines', async () => {
    const { reporter, messages } = await thread({ lingerMs: 60_000 });
    reporter.report({ status: 'ok', text: 'Checked: v42 is live, as planned' });
    reporter.report({ status: 'failed', text: 'Rolling back to v41 failed: Fastly answered 503' });
    // With a minute of linger, only the failure can have sent these lines now.
    await slack.waitFor(() => messages().length === 1 || undefined, 3_000);
    expect(messages()).toEqual([
      '✅ Checked: v42 is live, as planned\n❌ Rolling back to v41 failed: Fastly answered 503',
    ]);
    await reporter.flush();
  });

  it('lines that come while Slack is still taking a message go out together in the next one, in order', async () => {
    const { reporter, messages } = await thread({ lingerMs: 0 });
    slack.setLatency(300);
    reporter.report({ status: 'ok', text: 'one' });
    await new Promise((r) => setTimeout(r, 50)); // "one" is on its way
    for (const text of ['two', 'three', 'four']) reporter.report({ status: 'ok', text });
    await reporter.flush();
    expect(messages()).toEqual(['✅ one', '✅ two\n✅ three\n✅ four']);
  });

  it('progress keeps its own edited message between the steps around it', async () => {
    const { reporter, messages } = await thread();
    reporter.report({ status: 'ok', text: 'Activated revision 3' });
    reporter.report({
      status: 'progress',
      text: 'Waiting for deployment "app" rollout to finish: 1 of 2 updated replicas are available...',
    });
    reporter.report({ status: 'ok', text: 'Verify rollout: successfully rolled out' });
    reporter.finish(finished());
    await reporter.flush();
    expect(messages().slice(0, 3)).toEqual([
      '✅ Activated revision 3',
      '⏳ Waiting for deployment "app" rollout to finish: 1 of 2 updated replicas are available...',
      expect.stringMatching(/^✅ Verify rollout: successfully rolled out\n✅ \*cdn is back on v41\*/),
    ]);
  });

  it('an outcome with buttons stays one section: very long lines before it go in a message of their own', async () => {
    const { reporter, messages } = await thread();
    const output = `Output:\n\`\`\`\n${'x'.repeat(2_900)}\n\`\`\``;
    reporter.report({ status: 'info', text: output });
    reporter.finish(
      finished([
        { id: 'revert-branch', label: 'Create revert branch', description: 'git revert', needsApproval: false },
      ]),
    );
    await reporter.flush();
    const [first, outcome] = messages();
    expect(first).toBe(`ℹ️ ${output}`);
    expect(outcome).toMatch(/^✅ \*cdn is back on v41\*/);
    const posted = slack
      .callsTo('chat.postMessage')
      .filter((c) => String(c.args.text).startsWith('✅ *cdn is back on v41*'))
      .at(-1)!;
    const blocks = posted.args.blocks as Array<{ type: string; text?: { text: string } }>;
    expect(blocks[0]!.text!.text.length).toBeLessThanOrEqual(3_000);
    expect(blocks.some((b) => b.type === 'actions')).toBe(true);
  });
});
