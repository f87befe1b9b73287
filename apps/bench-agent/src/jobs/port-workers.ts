// One BullMQ queue and one Worker with concurrency 1 per USB port (`restore.<host>.<port>`):
// per-port pause, per-port dedupe (jobId = runId), no job ever runs on the wrong port.
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { BULLMQ_PREFIX, FAILURE_CLASS_BACKOFF, restoreQueueName, type RestoreJobData } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import { RetryableFailure, type RestoreJobResult, type RestoreProcessor } from './restore-processor';

export class PortWorkers {
  private readonly workers = new Map<string, Worker<RestoreJobData, RestoreJobResult>>();
  private readonly active = new Map<string, string>();

  constructor(
    private readonly hostId: string,
    private readonly connection: Redis,
    private readonly processor: RestoreProcessor,
    private readonly logger: Logger,
  ) {}

  ensure(portPath: string): void {
    if (this.workers.has(portPath)) return;
    const worker = new Worker<RestoreJobData, RestoreJobResult>(
      restoreQueueName(this.hostId, portPath),
      async (job: Job<RestoreJobData>, token?: string, signal?: AbortSignal) => {
        this.active.set(portPath, job.id ?? '');
        try {
          return await this.processor.process(job, token, signal);
        } finally {
          this.active.delete(portPath);
        }
      },
      {
        connection: this.connection,
        prefix: BULLMQ_PREFIX,
        concurrency: 1,
        lockDuration: 30_000,
        stalledInterval: 15_000,
        // An agent killed mid-restore leaves its job stalled; it must come back however often that happens.
        maxStalledCount: 1_000,
        settings: {
          backoffStrategy: (_attemptsMade: number, type?: string, error?: Error) =>
            type === FAILURE_CLASS_BACKOFF && error instanceof RetryableFailure ? error.retryDelayMs : 5_000,
        },
      },
    );
    worker.on('error', (error) => this.logger.warn(`worker ${portPath}: ${error.message}`));
    this.workers.set(portPath, worker);
  }

  ports(): string[] {
    return [...this.workers.keys()];
  }

  activeJob(portPath: string): string | undefined {
    return this.active.get(portPath);
  }

  /** Aborts the running restore on the port (operator cancel, wrong device). */
  cancel(portPath: string, reason: string): boolean {
    const jobId = this.active.get(portPath);
    return jobId ? (this.workers.get(portPath)?.cancelJob(jobId, reason) ?? false) : false;
  }

  async pause(portPath: string): Promise<void> {
    await this.workers.get(portPath)?.pause(true);
  }

  resume(portPath: string): void {
    this.workers.get(portPath)?.resume();
  }

  /** Stops taking jobs and waits for the running ones to reach their safe point. */
  async closeAll(timeoutMs: number): Promise<void> {
    const closing = Promise.all([...this.workers.values()].map((worker) => worker.close()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([closing, timeout]);
    clearTimeout(timer);
    await Promise.all([...this.workers.values()].map((worker) => worker.close(true).catch(() => undefined)));
    this.workers.clear();
  }
}
