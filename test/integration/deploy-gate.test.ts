import { afterEach, describe, expect, it } from 'vitest';
import { git, pushCommit, repository } from '../support/git-repo.js';
import { CDN_SERVICE, CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { type SimMessage, textOf } from '../support/slack-simulator.js';
import { waitUntil } from '../support/wait.js';

const TOKEN = 'gate-test-token-0123456789abcdef';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function ask(
  target: string,
  commit?: string,
  token: string | null = TOKEN,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const query = commit === undefined ? '' : `?commit=${encodeURIComponent(commit)}`;
  const response = await fetch(`http://127.0.0.1:${h.running.port}/v1/targets/${target}/gate${query}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const threadText = (notice: SimMessage) => h.slack.thread(CHANNELS.incident, notice.ts).map(textOf);

describe('the deploy gate over HTTP', () => {
  it('refuses what lacks the revert after a rollback, lets through a commit built on it or a squash of it, and ends the freeze when one goes live', async () => {
    const { bare, work, shas } = await repository();
    h = await startHarness({
      apiToken: TOKEN,
      driftCheckEvery: '1s',
      services: [
        {
          id: CDN_SERVICE,
          name: 'www-prod',
          versions: [
            { number: 40 },
            { number: 41, comment: `deploy ${shas[0]}` },
            { number: 42, comment: `deploy ${shas[2]}` },
          ],
          active: 42,
          activationHistory: [40, 41, 42],
        },
      ],
      cdnExtra: ['    git:', `      repo: ${bare}`, '      branch: main'],
    });
    const main = shas[2]!;

    // Nothing rolled back: deployable, and the answer says so.
    expect(await ask('cdn', main)).toEqual({
      status: 200,
      body: { target: 'cdn', deployable: true, frozen: false, commit: main },
    });

    const { id, notice } = await h.rollBack('cdn bad VCL');
    expect(threadText(notice).join('\n')).toContain('🔒 cdn is frozen');

    // Frozen, no revert branch yet: main is refused and the answer says what lifts the freeze.
    const before = await ask('cdn', main);
    expect(before.status).toBe(423);
    expect(before.body).toMatchObject({ target: 'cdn', deployable: false, request: id });
    expect(Date.parse(String(before.body.since))).toBeGreaterThan(Date.now() - 60_000);
    expect(String(before.body.lift)).toContain('revert branch');
    expect(String(before.body.lift)).toContain('/rollback unfreeze cdn <reason>');

    // The revert branch.
    const final = h.slack.thread(CHANNELS.incident, notice.ts).find((m) => /back on v41/.test(textOf(m)))!;
    await h.clickFollowUp(final, PEOPLE.requester);
    await h.slack.waitFor(
      (sim) =>
        sim.thread(CHANNELS.incident, notice.ts).find((m) => /Create revert branch for cdn done/.test(textOf(m))),
      20_000,
    );
    const branch = `rollback/cdn-${id}`;
    const revert = await git(bare, 'rev-parse', branch);

    // main lacks the revert: refused, naming the revert and its branch; the thread hears it once per commit.
    const refused = await ask('cdn', main);
    expect(refused.status).toBe(423);
    expect(String(refused.body.reason)).toContain(
      `${main.slice(0, 7)} does not contain the revert ${revert.slice(0, 7)}`,
    );
    expect(String(refused.body.reason)).toContain(branch);
    expect(String(refused.body.lift)).toContain(revert.slice(0, 7));
    expect((await ask('cdn', main.slice(0, 10))).status).toBe(423);
    const refusalLine = `a deploy of \`${main.slice(0, 7)}\` to cdn was refused: it does not contain the revert \`${revert.slice(0, 7)}\``;
    await waitUntil('the refusal in the thread', () => threadText(notice).some((t) => t.includes(refusalLine)));

    // Without a commit: refused, saying a commit is needed.
    const bare423 = await ask('cdn');
    expect(bare423.status).toBe(423);
    expect(String(bare423.body.reason)).toContain('name the commit to deploy');

    // A commit built on the revert may go out; so may main with the revert squashed into it.
    const built = await pushCommit(work, `origin/${branch}`, 'fix/after-revert', 'fix.txt', 'Fix redirects properly');
    const allowed = await ask('cdn', built);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ target: 'cdn', deployable: true, frozen: true, request: id });
    expect(String(allowed.body.reason)).toContain(`contains the revert ${revert.slice(0, 7)}`);
    await git(work, 'checkout', '--detach', 'origin/main');
    await git(work, 'merge', '--squash', `origin/${branch}`);
    await git(work, 'commit', '-m', 'Revert the bad VCL (squashed)');
    await git(work, 'push', 'origin', 'HEAD:refs/heads/squashed');
    expect((await ask('cdn', await git(work, 'rev-parse', 'HEAD'))).status).toBe(200);

    // A fix forward on main that does not contain the revert: refused.
    const forward = await pushCommit(work, 'origin/main', 'forward', 'forward.txt', 'Fix forward');
    expect((await ask('cdn', forward)).status).toBe(423);

    // Commits that are not commits, or not in the repository: 404 with words, never a 500.
    const notHex = await ask('cdn', 'main; rm -rf /');
    expect(notHex.status).toBe(404);
    expect(notHex.body).toMatchObject({ deployable: false, error: { code: 'COMMIT_UNKNOWN' } });
    const missing = await ask('cdn', 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef');
    expect(missing.status).toBe(404);
    expect(String((missing.body.error as { message: string }).message)).toContain('There is no commit deadbeef');

    // The deploy the gate allowed goes live as v43: the freeze ends by itself, and the thread says so.
    h.fastly.addVersion(CDN_SERVICE, { number: 43, comment: `deploy ${built}`, locked: true });
    h.fastly.activateOutOfBand(CDN_SERVICE, 43);
    await waitUntil('the freeze to end', async () => (await ask('cdn', forward)).status === 200);
    expect(await ask('cdn', forward)).toMatchObject({ status: 200, body: { frozen: false } });
    await waitUntil('the lift in the thread', () =>
      threadText(notice).some((t) => t.includes(`🔓 cdn is no longer frozen: v43 went live with ${built.slice(0, 7)}`)),
    );
    expect(threadText(notice).filter((t) => t.includes('no longer frozen'))).toHaveLength(1);
    expect(threadText(notice).filter((t) => t.includes(refusalLine))).toHaveLength(1);

    // The incident record tells the freeze's story.
    const record = (await h.redis.lrange(`${h.prefix}:timeline:${id}`, 0, -1)).map(
      (line) => JSON.parse(line) as { kind: string },
    );
    // main and the fix forward were refused (once each), then the deploy containing the revert ended it.
    expect(record.map((e) => e.kind).filter((k) => ['frozen', 'deploy-refused', 'unfrozen'].includes(k))).toEqual([
      'frozen',
      'deploy-refused',
      'deploy-refused',
      'unfrozen',
    ]);
  }, 120_000); // a rollback, a revert branch and some forty git processes: 9-14 s on a quiet machine

  it('answers 401 without the token, 404 for an unknown target or route, and 404 with how to turn it on when API_TOKEN is unset', async () => {
    h = await startHarness({ apiToken: TOKEN });
    expect((await ask('cdn', undefined, null)).status).toBe(401);
    const wrong = await ask('cdn', undefined, `${TOKEN}x`);
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    // The token is checked before anything else: no target names leak.
    expect((await ask('nope', undefined, 'wrong')).status).toBe(401);
    const unknown = await ask('cnd');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ target: 'cnd', deployable: false, error: { code: 'TARGET_UNKNOWN' } });
    expect(String((unknown.body.error as { message: string }).message)).toContain('Did you mean `cdn`?');
    const post = await fetch(`http://127.0.0.1:${h.running.port}/v1/targets/cdn/gate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(post.status).toBe(405);
    const route = await fetch(`http://127.0.0.1:${h.running.port}/v1/nothing`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(route.status).toBe(404);
    await h.close();

    h = await startHarness();
    const off = await ask('cdn');
    expect(off.status).toBe(404);
    expect(off.body).toMatchObject({ error: { code: 'API_DISABLED' } });
    expect(String((off.body.error as { message: string }).message)).toContain('Set API_TOKEN');
  });

  it('answers on PORT in Socket Mode too, where Slack talks over the socket', async () => {
    h = await startHarness({ apiToken: TOKEN, transport: 'socket' });
    expect(await ask('cdn')).toEqual({ status: 200, body: { target: 'cdn', deployable: true, frozen: false } });
    const { id } = await h.rollBack('cdn bad VCL');
    expect(await ask('cdn', 'abc1234')).toMatchObject({ status: 423, body: { deployable: false, request: id } });
    expect((await ask('cdn', undefined, 'wrong-token')).status).toBe(401);
  });

  it('without git settings, refuses every deploy after a rollback until an approved unfreeze', async () => {
    h = await startHarness({ apiToken: TOKEN });
    const { id } = await h.rollBack('cdn bad VCL');
    const frozen = await ask('cdn', 'abc1234');
    expect(frozen.status).toBe(423);
    expect(frozen.body).toMatchObject({ deployable: false, request: id, commit: 'abc1234' });
    expect(String(frozen.body.reason)).toContain(`frozen since`);
    expect(String(frozen.body.reason)).toContain(`after rollback ${id} (v42 → v41)`);
    expect(frozen.body.lift).toBe('an approved `/rollback unfreeze cdn <reason>`');
  });
});
