// The producer side of the per-port restore queues: a run is a job `{ runId }` with
// `jobId = runId` (a duplicate add is a no-op) on `restore.<host>.<port>`. Attempts are counted
// per failure class by the worker's retry policy; BullMQ's own limit is only a backstop.
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { RESTORE_JOB_NAME, type RestoreJobData } from './job-contract';
import type { LiveState, RunSpec } from './live-state';
import { BULLMQ_PREFIX, restoreQueueName } from './queue-names';

export const FAILURE_CLASS_BACKOFF = 'failure-class';

export const RESTORE_JOB_OPTIONS: JobsOptions = {
  attempts: 50,
  backoff: { type: FAILURE_CLASS_BACKOFF },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

export class RestoreQueues {
  private readonly queues = new Map<string, Queue<RestoreJobData>>();

  constructor(
    private readonly connection: Redis,
    private readonly live: LiveState,
  ) {}

  queue(hostId: string, portPath: string): Queue<RestoreJobData> {
    const name = restoreQueueName(hostId, portPath);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue<RestoreJobData>(name, { connection: this.connection, prefix: BULLMQ_PREFIX });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Stores the run spec for the agent, then queues the job (idempotent by run id). */
  async enqueue(spec: RunSpec): Promise<void> {
    await this.live.putRun(spec);
    await this.queue(spec.hostId, spec.portPath).add(
      RESTORE_JOB_NAME,
      { runId: spec.id },
      { ...RESTORE_JOB_OPTIONS, jobId: spec.id },
    );
  }

  /**
   * Takes a run's job off its queue when no agent is working on it. `active`: an agent is
   * running it (ask that agent to cancel); `missing`: no such job (already finished or removed).
   */
  async remove(hostId: string, portPath: string, runId: string): Promise<'removed' | 'active' | 'missing'> {
    const job = await this.queue(hostId, portPath).getJob(runId);
    if (!job) return 'missing';
    const state = await job.getState();
    if (state === 'active') return 'active';
    if (state === 'completed' || state === 'failed') return 'missing';
    try {
      await job.remove();
      return 'removed';
    } catch {
      // It became active between the check and the removal (the job is locked).
      return 'active';
    }
  }

  /** Starts a run waiting out a backoff or a hold now; false when it is not waiting. */
  async promote(hostId: string, portPath: string, runId: string): Promise<boolean> {
    const job = await this.queue(hostId, portPath).getJob(runId);
    if (!job || (await job.getState()) !== 'delayed') return false;
    await job.promote();
    return true;
  }

  /** Starts every run of the port that waits out a backoff or a hold (e.g. after a quarantine). */
  async promoteAll(hostId: string, portPath: string): Promise<void> {
    await this.queue(hostId, portPath).promoteJobs();
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
