import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';

/** One readiness check's answer (the shape GET /readyz lists). */
export interface Readiness {
  check: string;
  ready: boolean;
  detail: string;
}

/** The longest one readiness check waits: a kubelet probe times out after 1 s by default. */
const CHECK_MS = 800;

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Redis answers a PING on the connection the app and the stores use. */
export async function redisReadiness(redis: Redis): Promise<Readiness> {
  const started = performance.now();
  try {
    await within(CHECK_MS, redis.ping());
    return { check: 'redis', ready: true, detail: `PING answered in ${Math.round(performance.now() - started)} ms` };
  } catch (error) {
    return { check: 'redis', ready: false, detail: `Redis did not answer PING: ${(error as Error).message}` };
  }
}

/** The worker takes jobs: it runs, and its queue connection is up. */
export function workerReadiness(worker: Worker, connection: Redis): Readiness {
  if (!worker.isRunning() || worker.closing)
    return { check: 'queue', ready: false, detail: 'the worker is not taking jobs (stopping or not started)' };
  if (connection.status !== 'ready')
    return { check: 'queue', ready: false, detail: `the worker's queue connection is ${connection.status}` };
  return { check: 'queue', ready: true, detail: 'the worker takes jobs' };
}
