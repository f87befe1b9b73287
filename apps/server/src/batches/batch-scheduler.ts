// The batches' BullMQ queue: a delayed `start` job per batch at its start time, and a job
// scheduler per batch whose `tick` jobs take the batch's next step until it ends. BullMQ hands
// each job to one worker of one server, and the steps are idempotent, so several servers, or a
// server killed and restarted, take every step once.
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { BATCH_QUEUE, BULLMQ_PREFIX } from '@bench/jobs';
import { startDelayMs } from './batch-rules';

/** Both jobs, `start` (the batch's time has come) and `tick` (from its job scheduler), carry only the id. */
export interface BatchJobData {
  batchId: string;
}

/** How often a batch's step is taken while it has steps left (wall time: cheap database reads). */
export const BATCH_TICK_MS = 2_000;

const startJobId = (batchId: string) => `start-${batchId}`;
const schedulerId = (batchId: string) => `batch-${batchId}`;

export class BatchScheduler {
  readonly queue: Queue<BatchJobData, void, string>;

  constructor(connection: Redis) {
    this.queue = new Queue<BatchJobData, void, string>(BATCH_QUEUE, {
      connection,
      prefix: BULLMQ_PREFIX,
    });
    this.queue.on('error', () => undefined);
  }

  /**
   * Starts the batch at `at` (now when past) and ticks it until `unschedule`. Idempotent: a
   * batch already scheduled keeps its jobs, so every server may call it at boot.
   */
  async schedule(batchId: string, at: Date | null, now = Date.now()): Promise<void> {
    await this.queue.add(
      'start',
      { batchId },
      {
        jobId: startJobId(batchId),
        delay: startDelayMs(at, now),
        attempts: 5,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: true,
        removeOnFail: { count: 100 },
      },
    );
    await this.queue.upsertJobScheduler(
      schedulerId(batchId),
      { every: BATCH_TICK_MS },
      {
        name: 'tick',
        data: { batchId },
        opts: { removeOnComplete: true, removeOnFail: { count: 20 } },
      },
    );
  }

  /** The batch ended: no more ticks, and a start not yet due never comes. */
  async unschedule(batchId: string): Promise<void> {
    await this.queue.removeJobScheduler(schedulerId(batchId));
    const start: Job<BatchJobData, void, string> | undefined = await this.queue.getJob(startJobId(batchId));
    if (start && ['delayed', 'waiting', 'prioritized'].includes(await start.getState()))
      await start.remove().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
