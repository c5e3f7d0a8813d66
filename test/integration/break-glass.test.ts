import { afterEach, describe, expect, it } from 'vitest';
import { BREAK_GLASS_BLOCK, BREAK_GLASS_INPUT } from '../../src/slack/blocks/break-glass-modal.js';
import { requestStoreOn } from '../../src/wiring.js';
import { CDN_SERVICE, CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { textOf } from '../support/slack-simulator.js';

const WORDS = 'self-approved after 10 min without an approver (break-glass)';
const TEN_MIN = 10 * 60_000;

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

describe.each(['http', 'socket'] as const)(
  'break-glass when nobody answers (selfApprovalAfter: 10m), through Slack on the simulators (%s)',
  (transport) => {
    it('refuses the requester before the time with when, then approves with the target name typed in the modal', async () => {
      // The app's clock: moved 10 minutes forward instead of waiting them out.
      let ahead = 0;
      h = await startHarness({ settings: ['selfApprovalAfter: 10m'], now: () => Date.now() + ahead, transport });
      await h.command('cdn elevated 5xx');
      const request = await h.awaitRequest();
      const stored = await requestStoreOn(h.redis, h.prefix).get(request.id);
      const from = utc((stored?.createdAt ?? 0) + TEN_MIN);
      expect(textOf(request.message)).toContain(`(not the requester, unless none has acted by ${from}: break-glass)`);

      // Before the time: today's refusal, saying from when the requester may approve it.
      await h.click('approve', request, PEOPLE.requester);
      const refusal = await h.slack.waitFor(() => h.privateTo(PEOPLE.requester).find((t) => /someone else/.test(t)));
      expect(refusal).toContain('You asked for this rollback, so someone else must approve it.');
      expect(refusal).toContain(`You may approve it yourself from ${from} if no approver has acted (break-glass).`);
      expect(h.slack.viewsOf(PEOPLE.requester)).toEqual([]);

      // After it: the click opens the modal, which says what will run and asks for the target's name.
      ahead = TEN_MIN;
      await h.click('approve', request, PEOPLE.requester);
      const modal = await h.slack.waitFor((sim) => sim.viewsOf(PEOPLE.requester)[0]);
      const shown = textOf(modal.view);
      expect(modal.view.title).toMatchObject({ text: 'Break-glass approval' });
      expect(shown).toContain('No approver has acted on your rollback of cdn.');
      expect(shown).toContain(WORDS);
      expect(shown).toContain('<@UAPP>');
      expect(shown).toContain('Activate v41');
      expect(shown).toContain('Type cdn to confirm');

      // A wrong name: the modal stays open with the error under the input; nothing is approved or run.
      const wrong = await h.submitView(modal.id, { [BREAK_GLASS_BLOCK]: { [BREAK_GLASS_INPUT]: 'api' } });
      expect(wrong.outcome).toBe('errors');
      expect(h.slack.viewsOf(PEOPLE.requester)[0]?.errors?.[BREAK_GLASS_BLOCK]).toBe(
        `"api" is not the target's name: type cdn to approve this rollback yourself (break-glass).`,
      );
      expect((await requestStoreOn(h.redis, h.prefix).get(request.id))?.state).toBe('pending');
      expect(await h.jobState(request.id)).toBe('unknown');

      // The right name: the modal closes and the rollback runs to verified, saying how it was approved.
      const right = await h.submitView(modal.id, { [BREAK_GLASS_BLOCK]: { [BREAK_GLASS_INPUT]: 'cdn' } });
      expect(right.outcome).toBe('closed');
      const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
      const noticeText = textOf(notice);
      expect(noticeText).toContain('Rolling back cdn to v41');
      expect(noticeText).toContain(
        `requested by <@UREQ>, *${WORDS}* · approvers <@UAPP>, <!subteam^S0SRE> had not acted`,
      );
      await h.slack.waitFor(
        (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /After the rollback/.test(textOf(m))),
        15_000,
      );
      const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');
      expect(thread).toContain(`<@UREQ> ${WORDS}; approvers <@UAPP>, <!subteam^S0SRE> had not acted.`);
      expect(thread).toContain('*cdn is back on v41*, verified');
      expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);
      expect(h.fastly.activations).toHaveLength(1);
      // The notice's last edit (its outcome) keeps the words.
      await h.jobEnded(request.id);
      const finalNotice = textOf(h.slack.messages(CHANNELS.incident).find((m) => m.ts === notice.ts) ?? {});
      expect(finalNotice).toContain('✅ done in');
      expect(finalNotice).toContain(`*${WORDS}* · approvers <@UAPP>, <!subteam^S0SRE> had not acted`);
      const rewritten = h.slack.messages(CHANNELS.command).find((m) => m.ts === request.ts);
      expect(textOf(rewritten ?? {})).toContain(`*Approved* by <@UREQ> at`);
      expect(textOf(rewritten ?? {})).toContain(`, ${WORDS}: rolling back now.`);

      // The incident record says it too.
      const checklist = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /After the rollback/.test(textOf(m)));
      expect((await h.clickButton(checklist ?? request.message, 'rollback_record', PEOPLE.approver)).status).toBe(200);
      const record = textOf(
        await h.slack.waitFor((sim) =>
          sim.messages(CHANNELS.incident).find((m) => /Incident record for/.test(textOf(m))),
        ),
      );
      const approvedLine = record.split('\n').find((line) => line.startsWith('- Approved by:'));
      expect(approvedLine).toMatch(/^- Approved by: <@UREQ> at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC — /);
      expect(approvedLine).toContain(`— ${WORDS}; approvers <@UAPP>, <!subteam^S0SRE> had not acted`);
      expect(record).toContain(`approved: <@UREQ> ${WORDS}`);
    });

    it('gives approvers no bypass: after the time an approver approves the usual way, with no modal', async () => {
      let ahead = 0;
      h = await startHarness({ settings: ['selfApprovalAfter: 10m'], now: () => Date.now() + ahead, transport });
      expect((await h.command('help')).body).toContain(
        "Break-glass: when no approver has acted on a request for 10 min, its requester may approve it, typing the target's name.",
      );
      await h.command('cdn elevated 5xx');
      const request = await h.awaitRequest();
      ahead = TEN_MIN;
      await h.click('approve', request, PEOPLE.approver);
      const notice = await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs));
      expect(textOf(notice)).toContain('requested by <@UREQ>, approved by <@UAPP>');
      expect(textOf(notice)).not.toContain('break-glass');
      await h.jobEnded(request.id);
      expect(h.slack.viewsOf()).toEqual([]);
      expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);
    });
  },
);
