import { createHmac, timingSafeEqual } from 'node:crypto';
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
/** Bolt's own limit on a request body (HTTPReceiver's default bodyLimit). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Slack signs each request with its timestamp, and Bolt refuses a timestamp older than five minutes (this
 * guard refuses one more than five minutes ahead too), but a
 * request captured on the way can be replayed inside that window. The signature covers timestamp and body,
 * so two requests with the same signature are the same request: the second gets 401 before Bolt sees it.
 * The signature is verified here first (HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret), so
 * a forged request gets 401 without anything written to the store; a real one is remembered, and kept only
 * if Bolt accepted it. The body read for that is handed to Bolt as `rawBody`, which Bolt reads instead of
 * the stream. When the store cannot answer, requests go through: the signature and timestamp checks hold.
 */
export function guardReplays(
  listener: RequestListener,
  seen: SeenSignatures,
  log: Logger,
  signingSecret: string,
): RequestListener {
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
    readBody(req).then(
      (body) => {
        if (body === undefined) {
          res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('request body too large');
          return;
        }
        if (!signedWith(signingSecret, String(req.headers['x-slack-request-timestamp']), body, signature)) {
          res.writeHead(401, { 'content-type': 'text/plain' }).end('invalid signature');
          return;
        }
        // Bolt takes a body already read from here (HTTPModuleFunctions.bufferIncomingMessage) and checks it again.
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
        seen.claim(signature).then(
          (fresh) => {
            if (!fresh) {
              log.warn({ path: req.url }, 'refused a replayed Slack request');
              res.writeHead(401, { 'content-type': 'text/plain' }).end('replayed request');
              return;
            }
            res.on('finish', () => {
              if (res.statusCode !== 200) void seen.release(signature).catch(() => undefined);
            });
            listener(req, res);
          },
          (err: unknown) => {
            log.warn({ err }, 'replay check unavailable; letting the request through');
            listener(req, res);
          },
        );
      },
      (err: unknown) => {
        log.warn({ err, path: req.url }, 'could not read a Slack request body');
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end('unreadable request');
      },
    );
  };
}

/** Slack's v0 signature of this timestamp and body, compared in constant time. */
function signedWith(signingSecret: string, timestamp: string, body: Buffer, signature: string): boolean {
  const expected = Buffer.from(
    `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(body).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The whole body, or undefined past Bolt's limit (the rest is read and dropped). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.resume();
      resolve(undefined);
    };
    req.on('data', onData);
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
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
