// Creating runs: the database row first (the record), then the run spec and the job on the
// port's queue (idempotent by run id). A restart re-adds the job of every unfinished run, so a
// crash between the two steps loses nothing.
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BENCH_ENV, LOGGER } from '@bench/app-runtime';
import type { RestoreBehavior } from '@bench/bench-domain';
import type { BenchEnv } from '@bench/config';
import { createRedis, LiveState, RestoreQueues } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import { BenchDatabase, RunRepository, type NewRun } from '@bench/persistence';

@Injectable()
export class RunService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly runs: RunRepository;
  readonly redis: Redis;
  readonly live: LiveState;
  readonly queues: RestoreQueues;

  constructor(
    @Inject(BENCH_ENV) env: BenchEnv,
    @Inject(LOGGER) private readonly logger: Logger,
    database: BenchDatabase,
  ) {
    this.runs = new RunRepository(database);
    this.redis = createRedis(env.redis.url as string, 'worker');
    this.redis.on('error', () => undefined);
    this.live = new LiveState(this.redis);
    this.queues = new RestoreQueues(this.redis, this.live);
  }

  async onApplicationBootstrap(): Promise<void> {
    // Re-add the job of every run the record says is unfinished (no-ops when the job exists).
    // Runs a paused batch holds (`held`) and ended runs are not among them: they stay off the queues.
    try {
      for (const run of await this.runs.unfinished()) await this.enqueue(run);
    } catch (error) {
      this.logger.warn(`could not reconcile queued runs: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
    this.redis.disconnect();
  }

  async create(run: NewRun) {
    const row = await this.runs.create(run);
    await this.enqueue(row);
    return row;
  }

  /** Puts an existing run's job back on its port's queue (a paused batch's run, released). */
  async requeue(run: Parameters<RunService['enqueue']>[0]): Promise<void> {
    await this.enqueue(run);
  }

  /** Auto-start on plug: never a second run for a phone that has one queued, running or done. */
  async autoStart(request: {
    hostId: string;
    portPath: string;
    ecid: string;
    firmwareSelector: string;
    behavior: RestoreBehavior;
    policy: string;
  }) {
    const blocking = await this.runs.blockingRunFor(request.ecid);
    if (blocking) return undefined;
    return this.create({
      hostId: request.hostId,
      portPath: request.portPath,
      deviceEcid: request.ecid,
      firmwareSelector: request.firmwareSelector,
      behavior: request.behavior,
      policy: request.policy,
      operator: 'auto-start',
    });
  }

  private async enqueue(run: {
    id: string;
    hostId: string;
    portPath: string;
    deviceEcid: string | null;
    firmwareSelector: string;
    behavior: string;
    policy: string;
    createdAt: Date;
  }) {
    await this.queues.enqueue({
      id: run.id,
      hostId: run.hostId,
      portPath: run.portPath,
      ecid: run.deviceEcid ?? undefined,
      firmwareSelector: run.firmwareSelector,
      behavior: run.behavior === 'update' ? 'update' : 'erase',
      policy: run.policy,
      createdAt: run.createdAt.getTime(),
    });
  }
}
