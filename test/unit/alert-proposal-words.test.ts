import { describe, expect, it } from 'vitest';
import { alertLine, type ProposalAlert, proposalHeadline } from '../../src/core/alerts.js';
import type { RollbackRequest } from '../../src/core/request.js';
import { plainText } from '../../src/core/text.js';
import { proposalMessage } from '../../src/slack/blocks/proposal-blocks.js';

const at = (hhmm: string) => Date.parse(`2026-12-03T${hhmm}:00Z`);
const first: ProposalAlert = { fingerprint: 'f1', name: 'HighErrorRate', startsAt: at('02:14') };
const facts = { target: 'cdn', from: 'v42', to: 'v41', liveSince: at('02:11') };

function request(): RollbackRequest {
  return {
    id: 'rb-mx00000-abcdef',
    target: 'cdn',
    plan: {
      target: 'cdn',
      kind: 'fastly',
      resource: 'Fastly service www-prod (SU1)',
      from: { id: '42', label: 'v42' },
      to: { id: '41', label: 'v41' },
      selection: 'history',
      notes: [],
      steps: ['Activate v41'],
      budgetMs: 60_000,
      actionDone: 'Activated v41',
    },
    reason: 'HighErrorRate firing since 02:14 UTC, 3 min after the last deploy (Alertmanager)',
    requester: 'Alertmanager',
    origin: { channel: 'CINC' },
    createdAt: at('02:15'),
    expiresAt: at('02:30'),
    state: 'pending',
  };
}

describe('what a proposal says', () => {
  it("asks the issue's question, to the minute", () => {
    expect(plainText(proposalHeadline(first, facts))).toBe(
      '🔔 HighErrorRate firing for cdn since 02:14, 3 min after v42 went live. Roll back to v41?',
    );
    const soon = { ...first, startsAt: facts.liveSince + 40_000 };
    expect(plainText(proposalHeadline(soon, facts))).toContain('firing for cdn since 02:11, under a minute after v42');
  });

  it('gives each alert a line, and a resolved one says when and what to consider', () => {
    expect(plainText(alertLine({ ...first, summary: '5xx above 1 %' }))).toBe(
      'HighErrorRate firing since 02:14: 5xx above 1 %',
    );
    expect(plainText(alertLine({ ...first, resolvedAt: at('02:20') }))).toBe(
      'HighErrorRate firing since 02:14 — resolved at 02:20; consider Cancel',
    );
  });

  it('is the usual plan with Approve and Cancel, marked proposed, within Slack’s limits for an alert storm', () => {
    const alerts = Array.from({ length: 200 }, (_, i) => ({ ...first, fingerprint: `f${i}`, summary: 'x'.repeat(60) }));
    const message = proposalMessage(
      request(),
      { approvers: ['UAPP'], allowSelfApproval: false },
      { headline: proposalHeadline(first, facts), alerts: alerts.map(alertLine) },
    );
    const blocks = message.blocks as Array<{
      type: string;
      text?: { text: string };
      elements?: Array<{ text?: unknown; action_id?: string }>;
    }>;
    expect(blocks[0]?.text?.text).toBe('🔔 Rollback proposed: cdn');
    expect(blocks[1]?.text?.text).toBe(
      '*🔔 HighErrorRate firing for cdn since 02:14, 3 min after v42 went live. Roll back to v41?*',
    );
    const list = String(blocks[2]?.elements?.[0]?.text);
    expect(list.length).toBeLessThanOrEqual(3_000);
    expect(list).toMatch(/… and \d+ more$/);
    const buttons = blocks
      .flatMap((b) => b.elements ?? [])
      .map((e) => e.action_id)
      .filter(Boolean);
    expect(buttons).toEqual(['rollback_approve', 'rollback_cancel']);
  });
});
