/**
 * Other people using the bot while a fan-out runs (rows 5b and 5d): `others` targets have a request waiting
 * before the fan-out's click (they are clicked during it, Approve and Cancel alternating) and `others` more are
 * asked for during it. Each is timed from its send to its HTTP answer.
 */
import type { FastlySimulator } from '../../test/support/fastly-simulator.js';
import type { SlackSimulator } from '../../test/support/slack-simulator.js';
import { approveBody, cancelBody, commandBody, fastlyTarget, type PostedRequest, postSigned } from './common.js';

const otherServiceId = (i: number) => `OTH${String(i).padStart(3, '0')}Z0isxPaozGVKXdv`.slice(0, 22);
const otherName = (i: number) => `o${String(i).padStart(3, '0')}`;

/** Adds the other people's 2 × `others` services to the simulator; returns their rollback.yml lines. */
export function otherTargets(fastly: FastlySimulator, others: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 2 * others; i++) {
    fastly.addService({ id: otherServiceId(i), name: `other-${i}`, versions: 12, active: 12 });
    lines.push(...fastlyTarget(otherName(i), otherServiceId(i)));
  }
  return lines;
}

/** The targets whose requests are asked for before the fan-out (and clicked during it). */
export function waitingTargets(others: number): string[] {
  return Array.from({ length: others }, (_, i) => otherName(i));
}

interface Traffic {
  kind: 'command' | 'click';
  body: string;
}

/** The other people's commands and clicks, alternating, bodies signed before any clock starts. */
export function othersTraffic(
  slack: SlackSimulator,
  byTarget: ReadonlyMap<string, PostedRequest>,
  others: number,
): Traffic[] {
  return Array.from({ length: 2 * others }, (_, k) => {
    const i = Math.floor(k / 2);
    if (k % 2 === 0)
      return { kind: 'command' as const, body: commandBody(slack, `${otherName(others + i)} meanwhile`) };
    const request = byTarget.get(otherName(i)) as PostedRequest;
    return { kind: 'click' as const, body: (i % 2 === 0 ? approveBody : cancelBody)(slack, request) };
  });
}

export interface MeanwhileAnswers {
  commandAcks: number[];
  clickAcks: number[];
  /** When the last of them was sent, ms after `from`. */
  lastSentMs: number;
}

/** Sends `traffic` one every `everyMs` from `afterMs` after `from`; resolves with every answer time. */
export async function sendMeanwhile(
  url: string,
  traffic: readonly Traffic[],
  from: number,
  timing: { everyMs?: number | undefined; afterMs?: number | undefined } = {},
): Promise<MeanwhileAnswers> {
  const everyMs = timing.everyMs ?? 40;
  const afterMs = timing.afterMs ?? 200;
  const answers: MeanwhileAnswers = { commandAcks: [], clickAcks: [], lastSentMs: Number.NaN };
  await Promise.all(
    traffic.map(
      ({ kind, body }, k) =>
        new Promise<void>((resolve, reject) => {
          setTimeout(
            () => {
              answers.lastSentMs = Date.now() - from;
              postSigned(url, body).then((answer) => {
                if (answer.status !== 200) reject(new Error(`a ${kind} sent during the fan-out got ${answer.status}`));
                (kind === 'command' ? answers.commandAcks : answers.clickAcks).push(answer.ms);
                resolve();
              }, reject);
            },
            Math.max(0, from + afterMs + k * everyMs - Date.now()),
          );
        }),
    ),
  );
  return answers;
}
