import { Global, Module, Optional, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { BenchConfig, BenchEnv } from '@bench/config';
import type { Logger } from '@bench/logging';
import { BenchDatabase } from '@bench/persistence';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { APP_NAME, BENCH_CONFIG, BENCH_ENV, LOGGER } from './tokens';

export interface RuntimeOptions {
  app: string;
  /** Whether this app uses the database (the agent does not: it records through Redis). */
  database?: boolean;
  env: BenchEnv;
  config: BenchConfig;
  logger: Logger;
}

/** What every bench app shares: env, config, logger, the database (when used), and `/health`. */
@Global()
@Module({})
export class RuntimeModule implements OnApplicationShutdown {
  constructor(@Optional() private readonly database?: BenchDatabase) {}

  static forRoot(options: RuntimeOptions): DynamicModule {
    const database =
      options.database === false
        ? []
        : [
            {
              provide: BenchDatabase,
              useFactory: () => BenchDatabase.fromUrl(options.env.database.url, options.env.home),
            },
          ];
    return {
      module: RuntimeModule,
      controllers: [HealthController],
      providers: [
        { provide: APP_NAME, useValue: options.app },
        { provide: BENCH_ENV, useValue: options.env },
        { provide: BENCH_CONFIG, useValue: options.config },
        { provide: LOGGER, useValue: options.logger },
        ...database,
        HealthService,
      ],
      exports: [APP_NAME, BENCH_ENV, BENCH_CONFIG, LOGGER, HealthService, ...database.map((p) => p.provide)],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database?.close();
  }
}
