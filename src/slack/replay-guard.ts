import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

/** Remembers which signed requests were already seen. */
export interface SeenSignatures {
  /** True when this signature is new (and now taken); false when it was seen before. */
  claim(signature: string): Promise<boolean>;
  /** Forgets a signature whose request was refused, so a forger cannot burn a real one. */
  release(signature: string): Promise<void>;
}

const SIGNATURE = /^v0=[0-9a-f]{64}$/;
/** Slack's window: a timestamp more than five minutes from now, either way, is refused. */
const MAX_SKEW_SECONDS = 5 * 60;

/**
 * Slack signs each request with its timestamp, and Bolt refuses a timestamp older than five minutes (this
 * guard refuses one more than five minutes ahead too), but a
 * request captured on the way can be replayed inside that window. The signature covers timestamp and body,
 * so two requests with the same signature are the same request: the second gets 401 before Bolt sees it.
 * A signature is kept only if Bolt accepted its request (a forged one is released again). When the store
 * cannot answer, requests go through: the signature and timestamp checks still hold.
 */
export function guardReplays(listener: RequestListener, seen: SeenSignatures, log: Logger): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const signature = req.headers['x-slack-signature'];
    if (req.method !== 'POST' || typeof signature !== 'string' || !SIGNATURE.test(signature)) {
      listener(req, res);
      return;
    }
    // Bolt refuses old timestamps but not future ones; a request signed "in the future" could be replayed
    // for as long as the clock lags behind it.
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > MAX_SKEW_SECONDS) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('stale or future timestamp');
      req.resume();
      return;
    }
    // Hold the body while we ask Redis: Bolt reads it afterwards, untouched.
    req.pause();
    seen.claim(signature).then(
      (fresh) => {
        if (!fresh) {
          log.warn({ path: req.url }, 'refused a replayed Slack request');
          res.writeHead(401, { 'content-type': 'text/plain' }).end('replayed request');
          req.resume();
          return;
        }
        res.on('finish', () => {
          if (res.statusCode !== 200) void seen.release(signature).catch(() => undefined);
        });
        req.resume();
        listener(req, res);
      },
      (err: unknown) => {
        log.warn({ err }, 'replay check unavailable; letting the request through');
        req.resume();
        listener(req, res);
      },
    );
  };
}

/** SeenSignatures on Redis: one key per signature, kept past Slack's five-minute window. */
export function redisSeenSignatures(redis: Redis, prefix: string): SeenSignatures {
  const key = (signature: string) => `${prefix}:slack-seen:${signature.slice(3)}`;
  return {
    claim: async (signature) => (await redis.set(key(signature), '1', 'PX', 10 * 60_000, 'NX')) === 'OK',
    release: async (signature) => {
      await redis.del(key(signature));
    },
  };
}
