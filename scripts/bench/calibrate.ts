/**
 * The sender's own share of an ack figure: the same bursts of signed POSTs, from the same process and
 * connection pool, to a child process that answers 200 at once without looking at the request. Whatever
 * this takes is the instrument (the sender and the kernel on this machine), not the bot.
 */
import { spawn } from 'node:child_process';
import { slashCommand } from '../../test/support/slack-payloads.js';
import { freePort, postSigned, sleep, until } from './common.js';

const SERVER = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"response_type":"ephemeral","text":"ok"}'); }); }).listen(Number(process.argv[1]), '127.0.0.1', () => console.log('up'));`;

export async function senderFloor(bursts: number, size: number): Promise<number[]> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', SERVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let up = false;
  child.stdout?.on('data', () => (up = true));
  const samples: number[] = [];
  try {
    await until('the calibration server', () => up, 5_000, 10);
    const url = `http://127.0.0.1:${port}/slack/events`;
    // One unmeasured burst, as for the bot: connections opened, code warm.
    for (let burst = -1; burst < bursts; burst++) {
      const bodies = Array.from({ length: size }, (_, i) =>
        slashCommand({ text: `cdn calibration ${i}`, responseUrl: 'http://127.0.0.1:9/none' }),
      );
      const answers = await Promise.all(bodies.map((body) => postSigned(url, body)));
      if (burst >= 0) samples.push(...answers.map((a) => a.ms));
      await sleep(50);
    }
  } finally {
    child.kill('SIGTERM');
  }
  return samples;
}
