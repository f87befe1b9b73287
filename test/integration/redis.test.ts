import { probeRedis } from '@bench/jobs';
import { isAlive, TEST_REDIS_URL, tempDir } from '@bench/testing';
import { EmbeddedRedis } from '../../apps/cli/src/start/embedded-redis';

describe('Redis', () => {
  it('probes a real Redis for version and eviction policy', async () => {
    const probe = await probeRedis(TEST_REDIS_URL);
    expect(probe).toMatchObject({ ok: true, maxmemoryPolicy: 'noeviction' });
  });

  it('says why when nothing answers', async () => {
    const probe = await probeRedis('redis://127.0.0.1:1', 500);
    expect(probe.ok).toBe(false);
    expect(probe.error).toMatch(/ECONNREFUSED/);
  });

  it('runs its own redis-server with AOF and noeviction, and stops it', async () => {
    const { dir, remove } = tempDir();
    const redis = await EmbeddedRedis.start('/usr/bin/redis-server', dir);
    try {
      const probe = await probeRedis(redis.url);
      expect(probe).toMatchObject({ ok: true, maxmemoryPolicy: 'noeviction', appendonly: 'yes' });
    } finally {
      await redis.stop();
      remove();
    }
    expect(isAlive(redis.pid ?? -1)).toBe(false);
  });
});
