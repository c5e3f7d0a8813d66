import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CopyState, JobQueue, JobState, RollbackJobData } from '../core/ports/queue.js';
import { copiedToReplica } from '../store/redis-connection.js';
import { translatingOutages } from '../store/redis-errors.js';
import { dedicatedQueueName, JOB_NAME, QUEUE_NAME, rollbackJobSchema } from './job-schema.js';

export interface QueueOptions {
  connection: Redis;
  /** BullMQ key prefix; tests use a unique one per file. */
  prefix?: string;
}

/** What `takeOver` found: the job is now on its dedicated queue, or why not. */
export type TakeOverResult = 'taken' | 'dedicated-already' | 'active' | 'ended' | 'missing';

/** How long an approval waits for a replica to confirm its copy; a healthy replica answers in a millisecond. */
const COPY_WAIT_MS = 500;

const JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
} as const;

/**
 * The producer side. The job id is the request id, so a second enqueue of the same request (a double
 * click, a Slack retry) is a no-op in BullMQ: one approval, one job. No automatic retries: a rollback
 * that failed is looked at by a person, never run again blindly.
 *
 * Jobs go to the shared queue, which every bot worker takes from, or to a queue dedicated to one request,
 * which only the process that runs that request (the CLI) works on: a CLI run with another rollback.yml
 * never takes the bot's jobs, and the bot's workers never take the CLI's.
 */
export class RollbackQueue implements JobQueue {
  readonly queue: Queue;
  private readonly connection: Redis;
  private readonly prefix: string;

  constructor(options: QueueOptions) {
    this.connection = options.connection;
    this.prefix = options.prefix ?? 'bull';
    this.queue = new Queue(QUEUE_NAME, { connection: options.connection, prefix: this.prefix });
    // biome-ignore lint/correctness/noConstructorReturn: the proxy is the queue, with its Redis outages translated
    return translatingOutages(this);
  }

  private async withDedicated<T>(requestId: string, work: (queue: Queue) => Promise<T>): Promise<T> {
    const queue = new Queue(dedicatedQueueName(requestId), { connection: this.connection, prefix: this.prefix });
    try {
      return await work(queue);
    } finally {
      await queue.close();
    }
  }

  /** The shared queue's jobs by state, for the metrics. */
  async jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  }

  async enqueue(job: RollbackJobData, options: { dedicated?: boolean } = {}): Promise<void> {
    const data = rollbackJobSchema.parse(job);
    if (!options.dedicated) {
      await this.queue.add(JOB_NAME, data, { jobId: data.requestId, ...JOB_OPTIONS });
      return;
    }
    await this.withDedicated(data.requestId, (queue) =>
      queue.add(JOB_NAME, data, { jobId: data.requestId, ...JOB_OPTIONS }),
    );
  }

  async enqueueAll(jobs: readonly RollbackJobData[], options: { dedicated?: boolean } = {}): Promise<void> {
    const data = jobs.map((job) => rollbackJobSchema.parse(job));
    if (!options.dedicated) {
      // One MULTI: every job is added, or none.
      await this.queue.addBulk(
        data.map((job) => ({ name: JOB_NAME, data: job, opts: { jobId: job.requestId, ...JOB_OPTIONS } })),
      );
      return;
    }
    for (const job of data) await this.enqueue(job, { dedicated: true });
  }

  async jobState(requestId: string): Promise<JobState> {
    const shared = await stateIn(this.queue, requestId);
    if (shared !== 'missing') return shared;
    return this.withDedicated(requestId, (queue) => stateIn(queue, requestId));
  }

  /**
   * Moves a job that waits on the shared queue (no bot worker is up) to the request's dedicated queue, for
   * the CLI to run (`rollback --resume`). BullMQ removes a job only while no worker holds it, so a bot
   * worker and the CLI never both get it.
   */
  async takeOver(requestId: string): Promise<TakeOverResult> {
    const job = await this.queue.getJob(requestId);
    if (!job) {
      const dedicated = await this.withDedicated(requestId, (queue) => stateIn(queue, requestId));
      return dedicated === 'missing' ? 'missing' : dedicated === 'ended' ? 'ended' : 'dedicated-already';
    }
    const state = await stateIn(this.queue, requestId);
    if (state !== 'waiting') return state === 'active' ? 'active' : state;
    try {
      await job.remove();
    } catch {
      // A worker took it between the read and the removal.
      return 'active';
    }
    await this.withDedicated(requestId, (queue) => queue.add(JOB_NAME, job.data, { jobId: requestId, ...JOB_OPTIONS }));
    return 'taken';
  }

  /** WAIT on the connection the approval and the job were written on (the app's one connection); at most 0.5 s. */
  copied(): Promise<CopyState> {
    return copiedToReplica(this.connection, COPY_WAIT_MS);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

async function stateIn(queue: Queue, requestId: string): Promise<JobState> {
  const job = await queue.getJob(requestId);
  if (!job) return 'missing';
  const state = await job.getState();
  if (state === 'completed' || state === 'failed') return 'ended';
  if (state === 'active') return 'active';
  if (state === 'unknown') return 'missing';
  return 'waiting';
}
