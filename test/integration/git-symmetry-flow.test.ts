import { afterEach, describe, expect, it } from 'vitest';
import { git, repository } from '../support/git-repo.js';
import { CDN_SERVICE, CHANNELS, type Harness, PEOPLE, SIGNING_SECRET, startHarness } from '../support/harness.js';
import { blockAction, sendToApp } from '../support/slack-payloads.js';
import { textOf } from '../support/slack-simulator.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function startWithRepo(gitLines: string[], comments: [string, string]) {
  h = await startHarness({
    services: [
      {
        id: CDN_SERVICE,
        name: 'www-prod',
        versions: [{ number: 40 }, { number: 41, comment: comments[0] }, { number: 42, comment: comments[1] }],
        active: 42,
        activationHistory: [40, 41, 42],
      },
    ],
    cdnExtra: gitLines,
  });
}

describe('restoring symmetry with git after a rollback', () => {
  it('offers Create revert branch; a click pushes one commit that undoes what came after the restored version', async () => {
    const { bare, shas } = await repository();
    await startWithRepo(
      ['    git:', `      repo: ${bare}`, '      branch: main'],
      [`deploy ${shas[0]}`, `deploy ${shas[2]}`],
    );
    const { id, notice } = await h.rollBack('cdn bad VCL');
    const final = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /back on v41/.test(textOf(m)))!;
    expect(textOf(final)).toContain('Create revert branch…');

    await h.clickFollowUp(final, PEOPLE.requester);
    const done = await h.slack.waitFor(
      (sim) =>
        sim
          .thread(CHANNELS.incident, notice.ts)
          .find((m) => /Create revert branch for cdn (done|failed)/.test(textOf(m))),
      20_000,
    );
    expect(textOf(done)).toContain(
      `pushed rollback/cdn-${id}: 2 commit(s) after ${shas[0]!.slice(0, 10)} undone in one commit`,
    );
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');
    expect(thread).toContain('Rewrite VCL for redirects');
    expect(thread).toContain('Tighten cache TTL');

    const branch = `rollback/cdn-${id}`;
    expect(await git(bare, 'rev-parse', `${branch}^{tree}`)).toBe(await git(bare, 'rev-parse', `${shas[0]}^{tree}`));
    expect(await git(bare, 'rev-parse', `${branch}~1`)).toBe(shas[2]);
    expect(await git(bare, 'log', '-1', '--format=%s', branch)).toContain('cdn');

    const checklist = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /After the rollback/.test(textOf(m)))!;
    await sendToApp(
      h.eventsUrl,
      blockAction({
        actionId: 'rollback_record',
        value: id,
        userId: PEOPLE.approver,
        channelId: CHANNELS.incident,
        messageTs: checklist.ts,
        responseUrl: h.slack.newResponseUrl({ userId: PEOPLE.approver }),
      }),
      { signingSecret: SIGNING_SECRET },
    );
    const record = textOf(
      await h.slack.waitFor((sim) =>
        sim.messages(CHANNELS.incident).find((m) => /Incident record for/.test(textOf(m))),
      ),
    );
    expect(record).toContain('## Commits undone');
    expect(record).toContain(`- \`${shas[2]!.slice(0, 10)}\` Rewrite VCL for redirects`);
  });

  it('makes the branch at once with autoRevert', async () => {
    const { bare, shas } = await repository();
    await startWithRepo(
      ['    git:', `      repo: ${bare}`, '      autoRevert: true'],
      [`deploy ${shas[0]}`, `deploy ${shas[2]}`],
    );
    const { id, notice } = await h.rollBack('cdn bad VCL');
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');
    expect(thread).toContain(`pushed rollback/cdn-${id}`);
    expect(thread).not.toContain('Create revert branch…');
    expect(await git(bare, 'branch', '--list', `rollback/cdn-${id}`)).toContain(`rollback/cdn-${id}`);
  });

  it('says what to do by hand when the deployed version names no commit, and pushes nothing', async () => {
    const { bare } = await repository();
    await startWithRepo(
      ['    git:', `      repo: ${bare}`, '      autoRevert: true'],
      ['hotfix from the UI', 'deploy from laptop'],
    );
    const { id, notice } = await h.rollBack('cdn bad VCL');
    const thread = h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');
    expect(thread).toContain('Create revert branch could not run');
    expect(thread).toContain('hotfix from the UI');
    expect(await git(bare, 'branch', '--list', `rollback/cdn-${id}`)).toBe('');
    // The rollback itself stays a success: git is a follow-up, not part of it.
    expect(thread).toContain('*cdn is back on v41*');
  });
});
