// Batches from the API's side: create (validated, scheduled with BullMQ), read with progress,
// pause, resume, cancel. The steps themselves (batch-steps.ts) run in this server's BullMQ
// worker of the `batches` queue, as do every other server's: each job goes to one of them.
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { BENCH_CONFIG, BENCH_ENV, LOGGER } from '@bench/app-runtime';
import type { BenchConfig, BenchEnv } from '@bench/config';
import type { BatchView, CreateBatchRequest } from '@bench/events';
import { BATCH_QUEUE, BULLMQ_PREFIX, createRedis } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import { BatchRepository, BenchDatabase } from '@bench/persistence';
import type { AuthUser } from '../auth/auth.service';
import { SlotDirectory } from '../live/slot-directory';
import { RunService } from '../records/run.service';
import { parseStartAt, signingRecheckMs, transition, type BatchAction } from './batch-rules';
import { BatchNotices } from './batch-notices';
import { BatchScheduler, type BatchJobData } from './batch-scheduler';
import { BatchSteps, type BatchRow } from './batch-steps';
import { batchView } from './batch-view';

/** Batch steps one server takes at once (each is short: database reads, a few Redis commands). */
const WORKER_CONCURRENCY = 4;
/**
 * How long an operator's action waits for a batch step under way (steps are short). Past it the
 * state change stands and the next tick of the new state finishes the work.
 */
const ACTION_LOCK_WAIT_MS = 10_000;

@Injectable()
export class BatchService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly batches: BatchRepository;
  readonly steps: BatchSteps;
  private readonly redis: Redis;
  private readonly scheduler: BatchScheduler;
  private worker?: Worker<BatchJobData, void, string>;
  private workerRedis?: Redis;

  constructor(
    @Inject(BENCH_ENV) private readonly env: BenchEnv,
    @Inject(BENCH_CONFIG) private readonly config: BenchConfig,
    @Inject(LOGGER) private readonly rootLogger: Logger,
    database: BenchDatabase,
    runs: RunService,
    directory: SlotDirectory,
  ) {
    this.batches = new BatchRepository(database);
    this.redis = createRedis(env.redis.url as string, 'worker');
    this.redis.on('error', () => undefined);
    this.scheduler = new BatchScheduler(this.redis);
    this.steps = new BatchSteps({
      redis: this.redis,
      batches: this.batches,
      runs,
      directory,
      scheduler: this.scheduler,
      config,
      logger: rootLogger,
      // A simulated bench runs its clock faster: signing is re-checked as often in its time.
      signingRecheckMs: signingRecheckMs(env.simulate?.speed ?? 1),
      notices: new BatchNotices(config, rootLogger.child({ component: 'Batches' })),
    });
  }

  private get logger(): Logger {
    return this.rootLogger.child({ component: 'Batches' });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.workerRedis = createRedis(this.env.redis.url as string, 'worker');
    this.workerRedis.on('error', () => undefined);
    this.worker = new Worker<BatchJobData, void, string>(
      BATCH_QUEUE,
      (job) => this.steps.advance(job.data.batchId),
      { connection: this.workerRedis, prefix: BULLMQ_PREFIX, concurrency: WORKER_CONCURRENCY },
    );
    this.worker.on('error', (error) => this.logger.warn(`batch worker: ${error.message}`));
    this.worker.on('failed', (job, error) =>
      this.logger.warn(
        `batch step ${job?.name ?? '?'} of ${job?.data.batchId ?? '?'} failed: ${error.message}`,
      ),
    );
    // A batch created just before a crash may have no jobs yet: schedule every live one (idempotent).
    try {
      for (const batch of await this.batches.unfinished())
        await this.scheduler.schedule(batch.id, batch.scheduledAt);
    } catch (error) {
      this.logger.warn(`could not reconcile the batches' schedules: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.scheduler.close();
    this.workerRedis?.disconnect();
    this.redis.disconnect();
  }

  async list(): Promise<BatchView[]> {
    return (await this.batches.list()).map(batchView);
  }

  async get(batchId: string): Promise<BatchView> {
    return batchView(await this.find(batchId));
  }

  async create(request: CreateBatchRequest, user: AuthUser): Promise<BatchView> {
    const slotIds = [...new Set(request.slotIds ?? [])];
    const benchIds = [...new Set(request.benchIds ?? [])];
    if (slotIds.length === 0 && benchIds.length === 0)
      throw new BadRequestException('slotIds or benchIds: choose at least one slot or bench');
    const start = parseStartAt(request.startAt, Date.now());
    if ('error' in start) throw new BadRequestException(start.error);
    if (request.policy !== undefined && !this.config.policies[request.policy])
      throw new BadRequestException(
        `policy: unknown policy ${request.policy}; expected one of: ${Object.keys(this.config.policies).join(', ')}`,
      );
    const knownBenches = await this.batches.existingBenches(benchIds);
    const unknownBenches = benchIds.filter((id) => !knownBenches.has(id));
    if (unknownBenches.length)
      throw new BadRequestException(`benchIds: no bench ${unknownBenches.join(', ')}`);
    const knownSlots = await this.batches.existingSlots(slotIds);
    const unknownSlots = slotIds.filter((id) => !knownSlots.has(id));
    if (unknownSlots.length) throw new BadRequestException(`slotIds: no slot ${unknownSlots.join(', ')}`);
    const row = await this.batches.create({
      name: request.name,
      firmwareSelector: request.firmware,
      behavior: request.behavior,
      scheduledAt: start.at,
      policy: request.policy,
      slotIds,
      benchIds,
      createdBy: user.username,
    });
    await this.scheduler.schedule(row.id, start.at);
    this.logger.info(
      `batch ${row.name} (${row.id}) created by ${user.username}: ${request.firmware} ${request.behavior}, ` +
        `${slotIds.length} slot(s) and ${benchIds.length} bench(es), starts ${start.at.toISOString()}` +
        (request.policy ? `, policy ${request.policy}` : ''),
    );
    return batchView(row);
  }

  /** Runs not yet started are held until resume; running ones finish. */
  async pause(batchId: string, user: AuthUser): Promise<BatchView> {
    await this.apply(batchId, 'pause', user);
    await this.steps.withLock(
      batchId,
      async () => {
        await this.steps.holdQueuedRuns({ id: batchId });
      },
      ACTION_LOCK_WAIT_MS,
    );
    return this.get(batchId);
  }

  /** Held runs go back on their queues; a batch waiting in attention pre-fetches again. */
  async resume(batchId: string, user: AuthUser): Promise<BatchView> {
    const { batch, to } = await this.apply(batchId, 'resume', user);
    if (to === 'running')
      await this.steps.withLock(
        batchId,
        async () => {
          await this.steps.releaseHeldRuns({ id: batchId });
        },
        ACTION_LOCK_WAIT_MS,
      );
    // Ticks again (a batch may have been unscheduled), and starts now if its time has passed.
    await this.scheduler.schedule(batchId, batch.scheduledAt);
    return this.get(batchId);
  }

  /** Held and queued runs end as cancelled; running ones are asked to stop through their agents. */
  async cancel(batchId: string, reason: string | undefined, user: AuthUser): Promise<BatchView> {
    const { batch } = await this.apply(batchId, 'cancel', user, reason);
    await this.steps.withLock(
      batchId,
      async () => {
        const left = await this.steps.cancelRuns(batch, reason ?? `by ${user.username}`, user.username);
        if (left === 0) {
          await this.batches.update(batchId, { finishedAt: new Date() });
          await this.scheduler.unschedule(batchId);
        }
      },
      ACTION_LOCK_WAIT_MS,
    );
    return this.get(batchId);
  }

  private async find(batchId: string): Promise<BatchRow> {
    const batch = await this.batches.find(batchId);
    if (!batch) throw new NotFoundException(`no batch ${batchId}`);
    return batch;
  }

  /** The state change of an operator's action, as a compare-and-set on the state it was read in. */
  private async apply(batchId: string, action: BatchAction, user: AuthUser, reason?: string) {
    const batch = await this.find(batchId);
    const hasRuns = Object.values(batch.runStates).some((n) => n > 0);
    const next = transition(batch.state, action, { hasRuns });
    if ('refused' in next) throw new ConflictException(`batch ${batch.name}: ${next.refused}`);
    const message =
      action === 'cancel'
        ? `cancelled by ${user.username}${reason ? `: ${reason}` : ''}`
        : action === 'pause'
          ? `paused by ${user.username}`
          : null;
    const moved = await this.batches.transition(batchId, [batch.state], next.to, { message });
    if (!moved) throw new ConflictException(`batch ${batch.name} changed meanwhile; try again`);
    this.logger.info(
      `batch ${batch.name} (${batchId}): ${action} by ${user.username}: ${batch.state} → ${next.to}`,
    );
    return { batch, to: next.to };
  }
}
