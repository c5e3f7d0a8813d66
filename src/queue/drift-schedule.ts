import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { DriftCheck } from '../core/drift-watch.js';
import type { Logger } from '../log.js';

const DRIFT_QUEUE = 'drift-watch';
const SCHEDULER_PREFIX = 'drift:';

const driftJobSchema = z.object({ target: z.string().min(1) });

export interface DriftScheduleOptions {
  /** For the schedulers (a Queue) and, duplicated, the Worker: both with maxRetriesPerRequest null. */
  connection: Redis;
  /** BullMQ's key prefix, the rollback queue's. */
  prefix: string;
  /** Every configured target and how often it is checked. */
  targets: ReadonlyArray<{ name: string; everyMs: number }>;
  check: (target: string) => Promise<DriftCheck>;
  log: Logger;
}

/**
 * The drift watch as BullMQ job schedulers: one per target, every `driftCheckEvery`. They live in Redis, so they
 * outlast restarts, and each scheduled check is taken by one worker however many run. A check of a target that
 * is not frozen is one Redis read. Schedulers of targets no longer in rollback.yml are removed.
 */
export async function startDriftWatch(options: DriftScheduleOptions): Promise<{ close(): Promise<void> }> {
  const { connection, prefix, log } = options;
  const queue = new Queue(DRIFT_QUEUE, { connection, prefix });
  const names = new Set(options.targets.map((t) => t.name));
  for (const target of options.targets) {
    await queue.upsertJobScheduler(
      `${SCHEDULER_PREFIX}${target.name}`,
      { every: target.everyMs },
      {
        name: 'check',
        data: { target: target.name },
        opts: { removeOnComplete: true, removeOnFail: { count: 100 } },
      },
    );
  }
  for (const scheduler of await queue.getJobSchedulers()) {
    const id = scheduler.key;
    if (id.startsWith(SCHEDULER_PREFIX) && !names.has(id.slice(SCHEDULER_PREFIX.length)))
      await queue.removeJobScheduler(id);
  }
  const workerConnection = connection.duplicate();
  const worker = new Worker(
    DRIFT_QUEUE,
    async (job) => {
      const { target } = driftJobSchema.parse(job.data);
      if (!names.has(target)) return 'idle';
      const found = await options.check(target);
      if (found !== 'idle' && found !== 'steady') log.info({ target, found }, 'drift watch');
      return found;
    },
    { connection: workerConnection, prefix, concurrency: 4 },
  );
  worker.on('failed', (job, err) => log.warn({ err, target: job?.data?.target }, 'drift check failed'));
  worker.on('error', (err) => log.warn({ err }, 'drift watch worker error'));
  return {
    async close() {
      await worker.close();
      await queue.close();
      workerConnection.disconnect();
    },
  };
}
