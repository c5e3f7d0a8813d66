/**
 * With `git:` settings, the plan names the commits the rollback takes out of production (subject, author, short
 * sha; ten, then "and N more"), read with the real git in the bot's cached clone and shown in the Slack request;
 * a commit subject can neither ping nor break out of the message.
 */
import { afterEach, expect, it } from 'vitest';
import { git, repository } from '../support/git-repo.js';
import { CDN_SERVICE, type Harness, startHarness } from '../support/harness.js';
import { textOf } from '../support/slack-simulator.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SUBJECTS = ['Known good', ...Array.from({ length: 12 }, (_, i) => `Change ${i + 1}`), 'Fix <!channel> ``` VCL'];

/** v41 was built from the first commit; v42 from the one `live` names (a sha, or anything). */
async function start(live: (shas: string[]) => string) {
  const { bare, shas } = await repository(undefined, SUBJECTS);
  h = await startHarness({
    services: [
      {
        id: CDN_SERVICE,
        name: 'www-prod',
        versions: [{ number: 40 }, { number: 41, comment: `deploy ${shas[0]}` }, { number: 42, comment: live(shas) }],
        active: 42,
        activationHistory: [40, 41, 42],
      },
    ],
    cdnExtra: ['    git:', `      repo: ${bare}`, '      branch: main'],
  });
  return { bare, shas, h };
}

it('names the commits the rollback takes out of production: the ten newest, then how many more', async () => {
  const { bare, shas, h } = await start((shas) => `deploy ${shas.at(-1)}`);
  await h.command('cdn elevated 5xx');
  const request = await h.awaitRequest();
  const text = textOf(request.message);
  expect(text).toContain(`Commits taken out of production (${bare})`);
  const short = async (sha: string | undefined) => git(bare, 'rev-parse', '--short', sha ?? '');
  expect(text).toContain(`${await short(shas[13])} Fix &lt;!channel&gt; `);
  expect(text).not.toContain('<!channel>');
  expect(text).not.toContain('```');
  expect(text).toContain(`${await short(shas[4])} Change 4 — Dev`);
  // The ten newest of the thirteen after v41's commit, then the three more.
  expect(text).not.toContain('Change 3 —');
  expect(text).toContain('and 3 more');
  expect(text).not.toContain('Known good');
});

it('says the commits are not available when the live version names no commit, and the plan stands', async () => {
  const { h } = await start(() => 'hotfix by hand');
  await h.command('cdn elevated 5xx');
  const text = textOf((await h.awaitRequest()).message);
  expect(text).toContain('commits not available: v42 names no commit in its comment ("hotfix by hand")');
  expect(text).toContain('Approve rollback to v41');
});
