import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { CDN_SERVICE, CHANNELS, type Harness, startHarness } from '../support/harness.js';
import { type SimMessage, textOf } from '../support/slack-simulator.js';
import { waitUntil } from '../support/wait.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const threadLines = (notice: SimMessage, pattern: RegExp) =>
  h.slack
    .thread(CHANNELS.incident, notice.ts)
    .map(textOf)
    .filter((t) => pattern.test(t));
const channelLines = (pattern: RegExp) =>
  h.slack
    .messages(CHANNELS.incident)
    .filter((m) => !m.threadTs)
    .map(textOf)
    .filter((t) => pattern.test(t));

/** Reads of the service the watch made so far: a check that "nothing more was said" waits for more of them. */
const serviceReads = () =>
  h.fastly.requests.filter((r) => r.method === 'GET' && r.path === `/service/${CDN_SERVICE}/details`).length;

async function moreChecks(count: number): Promise<void> {
  const before = serviceReads();
  await waitUntil(`${count} more drift checks`, () => serviceReads() >= before + count, 15_000);
}

describe('the drift watch', () => {
  it('says once, in the thread and the incident channel, that a frozen Fastly service was moved by hand; the freeze stays', async () => {
    h = await startHarness({
      driftCheckEvery: '1s',
      services: [{ id: CDN_SERVICE, name: 'www-prod', versions: 43, active: 42 }],
    });
    const { id, notice } = await h.rollBack('cdn elevated 5xx');
    expect(h.fastly.activeVersion(CDN_SERVICE)).toBe(41);
    await moreChecks(2);
    expect(threadLines(notice, /moved from/)).toEqual([]);

    // Someone re-activates the bad version in the Fastly UI.
    h.fastly.activateOutOfBand(CDN_SERVICE, 42);
    const warning = /⚠️ cdn moved from v41 to v42 at \d\d:\d\d UTC — the version rolled back from is live again/;
    await waitUntil('the warning in the thread', () => threadLines(notice, warning).length > 0);
    await waitUntil('the warning in the incident channel', () => channelLines(warning).length > 0);
    expect(channelLines(warning)[0]).toContain(`(rollback ${id})`);
    expect(threadLines(notice, warning)[0]).toContain('cdn stays frozen');
    await moreChecks(3);
    expect(threadLines(notice, warning)).toHaveLength(1);
    expect(channelLines(warning)).toHaveLength(1);

    // The record has it; the target is still frozen.
    const record = (await h.redis.lrange(`${h.prefix}:timeline:${id}`, 0, -1)).map(
      (line) => JSON.parse(line) as { kind: string; ok?: boolean },
    );
    expect(record.filter((e) => e.kind === 'drift')).toEqual([expect.objectContaining({ ok: false })]);
    expect(await h.redis.hget(`${h.prefix}:freeze:cdn`, 'id')).toBe(id);

    // Back to the restored version, then to a third one: one line per move.
    h.fastly.activateOutOfBand(CDN_SERVICE, 41);
    await waitUntil('the way back in the thread', () => threadLines(notice, /✅ cdn is back on v41/).length > 0);
    h.fastly.activateOutOfBand(CDN_SERVICE, 43);
    await waitUntil(
      'the second move in the thread',
      () =>
        threadLines(notice, /moved from v41 to v43 .* a version the deploy gate did not let out is live/).length > 0,
    );
    await moreChecks(3);
    expect(threadLines(notice, /moved from|back on v41 \(the version/)).toHaveLength(3);
  });

  it('is kept in Redis: another worker carries it on after the first process stops, and two workers say a move once', async () => {
    h = await startHarness({ driftCheckEvery: '1s' });
    const { notice } = await h.rollBack('cdn elevated 5xx');
    const schedulers = new Queue('drift-watch', { connection: h.redis.duplicate(), prefix: `${h.prefix}-bull` });
    try {
      expect((await schedulers.getJobSchedulers()).map((s) => s.key)).toContain('drift:cdn');
    } finally {
      await schedulers.close();
    }
    await h.startWorker();
    await h.startWorker();
    await h.running.stop();

    h.fastly.activateOutOfBand(CDN_SERVICE, 42);
    const warning = /cdn moved from v41 to v42/;
    await waitUntil('the warning from the remaining workers', () => threadLines(notice, warning).length > 0);
    await moreChecks(4);
    expect(threadLines(notice, warning)).toHaveLength(1);
    expect(channelLines(warning)).toHaveLength(1);
  });
});
