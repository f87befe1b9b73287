// Boots a Nest app the way every bench process does: validated env and config (exit 2 on a
// config error), our logger, shutdown hooks, and a `ready` message to the supervisor.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { ConfigError, loadBenchConfig, loadEnv, type BenchConfig, type BenchEnv } from '@bench/config';
import { createLogger, NestLoggerAdapter, type Logger } from '@bench/logging';
import type { AppName, ReadyMessage } from './supervisor-protocol';

export interface BootContext {
  env: BenchEnv;
  config: BenchConfig;
  logger: Logger;
}

export interface BootOptions {
  app: AppName;
  module: (context: BootContext) => Type<unknown> | DynamicModule;
  listen: (env: BenchEnv) => { port: number; bind: string };
  configure?: (app: INestApplication, context: BootContext) => void | Promise<void>;
}

export async function bootApp(options: BootOptions): Promise<INestApplication | undefined> {
  let context: BootContext;
  try {
    const env = loadEnv();
    const config = loadBenchConfig(env.configFile);
    const logger = createLogger({
      app: options.app,
      level: env.log.level,
      pretty: env.log.pretty,
      context: { host: env.hostId },
    });
    context = { env, config, logger };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`bench ${options.app}: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    throw error;
  }
  const { env, logger } = context;
  const app = await NestFactory.create(options.module(context), {
    logger: new NestLoggerAdapter(logger.child({ component: 'Nest' })),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  await options.configure?.(app, context);
  const { port, bind } = options.listen(env);
  await app.listen(port, bind);
  const address = app.getHttpServer().address() as { port: number };
  logger.info(`${options.app} listening on http://${bind}:${address.port}`);
  const ready: ReadyMessage = { type: 'ready', app: options.app, port: address.port, pid: process.pid };
  process.send?.(ready);
  // When the supervisor dies (even by SIGKILL) the IPC channel closes: shut down rather than linger.
  process.once('disconnect', () => {
    logger.warn('supervisor went away; shutting down');
    void app.close().finally(() => process.exit(0));
  });
  return app;
}
