import { connect } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Connections follow BullMQ's production advice: producers fail fast when Redis is down
 * (no offline queue, bounded retries per request); workers wait forever
 * (maxRetriesPerRequest: null) so a Redis restart never fails a job in flight.
 */
export type RedisRole = 'producer' | 'worker' | 'probe';

export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions = { lazyConnect: role === 'probe', connectionName: `bench-${role}` };
  const byRole: Record<RedisRole, RedisOptions> = {
    producer: { enableOfflineQueue: false, maxRetriesPerRequest: 3 },
    worker: { maxRetriesPerRequest: null },
    probe: {
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_500,
      retryStrategy: () => null,
    },
  };
  return new Redis(url, { ...base, ...byRole[role], ...extra });
}

export interface RedisProbe {
  ok: boolean;
  version?: string;
  maxmemoryPolicy?: string;
  appendonly?: string;
  error?: string;
}

/** Connects once, reads what `bench doctor` and `/health` need, and disconnects. */
export async function probeRedis(url: string, timeoutMs = 1_500): Promise<RedisProbe> {
  // A plain TCP check first: it names the socket error (ECONNREFUSED…) and leaves no ioredis
  // reconnect timer behind when nothing listens.
  const reachable = await tcpReachable(url, timeoutMs);
  if (reachable !== true) return { ok: false, error: reachable };
  const redis = createRedis(url, 'probe', { connectTimeout: timeoutMs, commandTimeout: timeoutMs });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => (lastError = error));
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    const policy = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const aof = (await redis.config('GET', 'appendonly')) as string[];
    return { ok: true, version, maxmemoryPolicy: policy[1], appendonly: aof[1] };
  } catch (error) {
    // ioredis reports "Connection is closed"; the socket error (ECONNREFUSED…) says more.
    return { ok: false, error: (lastError ?? (error as Error)).message };
  } finally {
    redis.disconnect();
  }
}

function tcpReachable(url: string, timeoutMs: number): Promise<true | string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      resolve(error.message);
    });
  });
}
