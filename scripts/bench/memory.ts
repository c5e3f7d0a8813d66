/**
 * Row 6: idle memory. `node dist/main.js` (the Slack app and a worker in one process, as `npm start`)
 * on the simulators, one Fastly target, nothing happening. VmRSS is read from /proc/<pid>/status every
 * 250 ms once the process logs that it started; the figure is the last reading after `settleMs` (start-up
 * has settled when readings stop growing), the peak is shown too.
 */
import { FastlySimulator } from '../../test/support/fastly-simulator.js';
import { SlackSimulator } from '../../test/support/slack-simulator.js';
import {
  type BotProcess,
  CHANNELS,
  fastlyTarget,
  rssBytes,
  sleep,
  startBot,
  tempDir,
  writeRollbackYml,
} from './common.js';
import { SERVICE } from './fastly-flow.js';

export interface MemoryResult {
  /** VmRSS after settling, bytes. */
  idleRss: number;
  peakRss: number;
  samples: number[];
  settleMs: number;
}

export async function idleMemory(options: { settleMs: number; prefix: string }): Promise<MemoryResult> {
  const slack = await SlackSimulator.start();
  slack.addChannel({ id: CHANNELS.command, name: 'ops' });
  slack.addChannel({ id: CHANNELS.incident, name: 'incidents' });
  const fastly = await FastlySimulator.start();
  fastly.addService({ id: SERVICE, name: 'www-prod', versions: 42, active: 42 });
  const dir = tempDir('memory');
  const config = writeRollbackYml(dir, fastlyTarget('cdn', SERVICE));
  let bot: BotProcess | undefined;
  try {
    bot = await startBot({ mode: 'all', cwd: dir, config, prefix: options.prefix, slack, fastly });
    const samples: number[] = [];
    const end = Date.now() + options.settleMs;
    while (Date.now() < end) {
      samples.push(rssBytes(bot.pid));
      await sleep(250);
    }
    samples.push(rssBytes(bot.pid));
    return { idleRss: samples.at(-1) as number, peakRss: Math.max(...samples), samples, settleMs: options.settleMs };
  } finally {
    await bot?.stop();
    await Promise.all([slack.close(), fastly.close()]);
  }
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
