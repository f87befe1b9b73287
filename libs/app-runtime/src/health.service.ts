import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import type { BenchEnv } from '@bench/config';
import { createRedis } from '@bench/jobs';
import { BenchDatabase } from '@bench/persistence';
import type { Redis } from 'ioredis';
import { APP_NAME, BENCH_ENV } from './tokens';

export type CheckStatus = 'ok' | 'error';

export interface HealthReport {
  status: CheckStatus;
  app: string;
  host: string;
  pid: number;
  uptimeSeconds: number;
  checks: Partial<Record<'database' | 'redis', { status: CheckStatus; detail?: string }>>;
}

/** Answers `/health`: the process is up and can reach its database and Redis. */
@Injectable()
export class HealthService implements OnModuleDestroy {
  private readonly redis: Redis;

  constructor(
    @Inject(APP_NAME) private readonly app: string,
    @Inject(BENCH_ENV) private readonly env: BenchEnv,
    @Optional() private readonly database?: BenchDatabase,
  ) {
    if (!env.redis.url) throw new Error('REDIS_URL must be resolved before an app starts');
    this.redis = createRedis(env.redis.url, 'producer', { lazyConnect: true });
    this.redis.on('error', () => undefined);
  }

  async check(): Promise<HealthReport> {
    const db = this.database;
    const [database, redis] = await Promise.all([
      db ? this.run(() => db.ping()) : Promise.resolve(undefined),
      this.run(async () => {
        if (this.redis.status === 'wait') await this.redis.connect();
        await this.redis.ping();
      }),
    ]);
    const status: CheckStatus = (database?.status ?? 'ok') === 'ok' && redis.status === 'ok' ? 'ok' : 'error';
    return {
      status,
      app: this.app,
      host: this.env.hostId,
      pid: process.pid,
      uptimeSeconds: Math.round(process.uptime()),
      checks: database ? { database, redis } : { redis },
    };
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
  }

  private async run(check: () => Promise<void>): Promise<{ status: CheckStatus; detail?: string }> {
    try {
      await withTimeout(check(), 2_000);
      return { status: 'ok' };
    } catch (error) {
      return { status: 'error', detail: (error as Error).message };
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
