import type { BenchEnv } from '@bench/config';
import { probeRedis } from '@bench/jobs';
import { EmbeddedRedis } from './embedded-redis';
import { findOnPath } from './process-utils';

export interface ResolvedRedis {
  url: string;
  source: 'REDIS_URL' | 'local' | 'embedded';
  embedded?: EmbeddedRedis;
}

export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

export const REDIS_INSTALL_HINT =
  'install Redis (Debian/Ubuntu: sudo apt-get install redis-server) so bench can start its own, ' +
  'or set REDIS_URL=redis://HOST:PORT to use an existing one';

/** REDIS_URL if set; else a Redis already answering on the probe address; else our own redis-server. */
export async function resolveRedis(env: BenchEnv): Promise<ResolvedRedis> {
  if (env.redis.url) {
    const probe = await probeRedis(env.redis.url);
    if (!probe.ok)
      throw new RedisUnavailableError(`REDIS_URL ${env.redis.url} does not answer (${probe.error})`);
    return { url: env.redis.url, source: 'REDIS_URL' };
  }
  const local = `redis://${env.redis.probe.host}:${env.redis.probe.port}`;
  if ((await probeRedis(local, 800)).ok) return { url: local, source: 'local' };
  const binary = findOnPath('redis-server', env.searchPath);
  if (!binary) {
    throw new RedisUnavailableError(
      `no Redis answers on ${env.redis.probe.host}:${env.redis.probe.port} and redis-server is not on PATH: ${REDIS_INSTALL_HINT}`,
    );
  }
  const embedded = await EmbeddedRedis.start(binary, env.varDir);
  return { url: embedded.url, source: 'embedded', embedded };
}
