// `bench start`: the supervisor. Resolves Redis (starting our own when needed), applies database
// migrations once, then runs the server and the bench agent as separate processes, restarting
// a crashed one with backoff and shutting everything down on SIGINT/SIGTERM.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AppName, ReadyMessage } from '@bench/app-runtime';
import { childEnvironment, loadBenchConfig, loadEnv } from '@bench/config';
import { createLogger } from '@bench/logging';
import { BenchDatabase, hashPassword, UserRepository } from '@bench/persistence';
import { randomBytes } from 'node:crypto';
import { runningBenchFile } from '../running-bench';
import { ChildSupervisor } from './child-supervisor';
import { resolveRedis, RedisUnavailableError, type ResolvedRedis } from './resolve-redis';

export interface StartOptions {
  demo?: boolean;
  /** Number of simulated phones the agent drives instead of the USB bus. */
  simulate?: string;
  faults?: string;
  seed?: string;
  speed?: string;
  startMode?: string;
}

/** `--demo`: a 12-phone bench at 60× with the shop-floor fault profile. */
function simulationEnv(options: StartOptions): Record<string, string | undefined> {
  const phones = options.demo ? (options.simulate ?? '12') : options.simulate;
  if (!phones) return {};
  return {
    BENCH_SIMULATE: phones,
    BENCH_SIM_FAULTS: options.faults ?? (options.demo ? 'shop-floor' : undefined),
    BENCH_SIM_SEED: options.seed,
    BENCH_SIM_SPEED: options.speed ?? (options.demo ? '60' : undefined),
    BENCH_SIM_START_MODE: options.startMode,
  };
}

/**
 * Nobody can log in to a fresh install: say how to create the first admin. The demo creates one
 * itself (its whole point is to be seen without setup) and prints the password once.
 */
async function firstLogin(
  users: UserRepository,
  options: StartOptions,
  logger: { info(message: string): void; warn(message: string): void },
): Promise<void> {
  if ((await users.count()) > 0) return;
  if (!options.demo) {
    logger.warn(
      'no dashboard users yet: create the first admin with `bench user add --username NAME --role admin`',
    );
    return;
  }
  const password = randomBytes(9).toString('base64url');
  await users.create({ username: 'admin', role: 'admin', passwordHash: await hashPassword(password) });
  logger.info(`demo login: admin / ${password} (shown once; change it with bench user set-password)`);
}

const APP_ENTRIES: Record<AppName, string> = {
  server: path.resolve(__dirname, '../../../server/src/main.js'),
  'bench-agent': path.resolve(__dirname, '../../../bench-agent/src/main.js'),
};

export async function startCommand(options: StartOptions): Promise<number> {
  const env = loadEnv();
  loadBenchConfig(env.configFile); // validate before anything starts (exit 2 on error)
  const logger = createLogger({
    app: 'bench',
    level: env.log.level,
    pretty: env.log.pretty,
    context: { host: env.hostId },
  });
  mkdirSync(env.varDir, { recursive: true });

  let redis: ResolvedRedis;
  try {
    redis = await resolveRedis(env);
  } catch (error) {
    if (error instanceof RedisUnavailableError) {
      process.stderr.write(`bench: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  logger.info(
    `redis: ${redis.url} (${redis.source === 'embedded' ? `started by bench, data in ${redis.embedded?.dir}` : redis.source})`,
  );

  const database = BenchDatabase.fromUrl(env.database.url, env.home);
  try {
    const result = await database.migrate();
    logger.info(`database: ${database.describe()} (${result.applied.length} migration(s) applied)`);
    await firstLogin(new UserRepository(database), options, logger);
  } catch (error) {
    process.stderr.write(`bench: database ${database.describe()}: ${(error as Error).message}\n`);
    await redis.embedded?.stop();
    return 1;
  } finally {
    await database.close();
  }

  const stateFile = runningBenchFile(env);
  const ready: Partial<Record<AppName, ReadyMessage>> = {};
  const childEnv = childEnvironment({ REDIS_URL: redis.url, ...simulationEnv(options) });
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let shuttingDown = false;

  const writeState = () => {
    mkdirSync(path.dirname(stateFile), { recursive: true });
    const state = {
      pid: process.pid,
      redis: { url: redis.url, source: redis.source, pid: redis.embedded?.pid },
      server: ready.server ?? null,
      agent: ready['bench-agent'] ?? null,
    };
    writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  };

  const children = (['server', 'bench-agent'] as const).map(
    (app) =>
      new ChildSupervisor({
        app,
        entry: APP_ENTRIES[app],
        env: childEnv,
        logger,
        onReady: (message) => {
          const first = !ready[app];
          ready[app] = message;
          writeState();
          if (app === 'server') {
            const host = env.server.bind === '0.0.0.0' ? '127.0.0.1' : env.server.bind;
            logger.info(`server ready: dashboard at http://${host}:${message.port}/ (pid ${message.pid})`);
          } else {
            logger.info(
              `bench agent ready: health at http://${env.agent.bind}:${message.port}/health (pid ${message.pid})`,
            );
          }
          if (!first) logger.info(`${app} restarted`);
        },
        onFatal: (code) => void shutdown(code),
      }),
  );

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('stopping server and bench agent');
    await Promise.all(children.map((child) => child.stop()));
    if (redis.embedded) {
      logger.info('stopping the embedded redis-server');
      await redis.embedded.stop();
    }
    rmSync(stateFile, { force: true });
    logger.info('stopped');
    finish(code);
  };

  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  for (const signal of ['SIGHUP', 'SIGUSR2'] as const) {
    process.on(signal, () => children.forEach((child) => child.signal(signal)));
  }
  for (const child of children) child.start();
  return finished;
}
