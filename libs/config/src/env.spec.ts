import path from 'node:path';
import { ConfigError } from './config-error';
import { loadEnv } from './env';

describe('loadEnv', () => {
  it('defaults to SQLite under var/ and probes the local Redis', () => {
    const env = loadEnv({ PATH: '/usr/bin' }, '/srv/bench');
    expect(env.database).toEqual({
      kind: 'sqlite',
      url: 'file:/srv/bench/var/bench.db',
      sqliteFile: '/srv/bench/var/bench.db',
    });
    expect(env.redis).toEqual({ url: undefined, probe: { host: '127.0.0.1', port: 6379 } });
    expect(env.firmware.dir).toBe(path.join('/srv/bench', 'var', 'firmware'));
    expect(env.searchPath.split(':')).toContain('/usr/sbin');
  });

  it('recognises PostgreSQL URLs', () => {
    expect(loadEnv({ DATABASE_URL: 'postgresql://u@db:5432/bench' }, '/x').database.kind).toBe('postgresql');
  });

  it('names every bad variable and what was expected', () => {
    expect(() => loadEnv({ REDIS_URL: 'localhost:6379', BENCH_SERVER_PORT: '99999' }, '/x')).toThrow(
      ConfigError,
    );
    try {
      loadEnv({ REDIS_URL: 'localhost:6379', BENCH_SERVER_PORT: '99999' }, '/x');
    } catch (error) {
      expect((error as Error).message).toContain('REDIS_URL="localhost:6379": expected redis://HOST:PORT');
      expect((error as Error).message).toContain('BENCH_SERVER_PORT="99999"');
    }
  });

  it('takes the control URL of a simulator in another process, not together with BENCH_SIMULATE', () => {
    expect(loadEnv({ BENCH_SIM_REMOTE: 'http://127.0.0.1:4567/' }, '/x').simRemote).toEqual({
      controlUrl: 'http://127.0.0.1:4567',
    });
    expect(loadEnv({}, '/x').simRemote).toBeUndefined();
    expect(() => loadEnv({ BENCH_SIM_REMOTE: '127.0.0.1:4567' }, '/x')).toThrow(/BENCH_SIM_REMOTE/);
    expect(() => loadEnv({ BENCH_SIM_REMOTE: 'http://127.0.0.1:4567', BENCH_SIMULATE: '4' }, '/x')).toThrow(
      /exclude each other/,
    );
  });

  it('takes where API commands reach the server and their token', () => {
    expect(loadEnv({}, '/x').apiClient).toEqual({ serverUrl: undefined, token: undefined });
    expect(
      loadEnv({ BENCH_SERVER_URL: 'http://bench-server:8080/', BENCH_API_TOKEN: 'bt_abc' }, '/x').apiClient,
    ).toEqual({ serverUrl: 'http://bench-server:8080', token: 'bt_abc' });
    expect(() => loadEnv({ BENCH_SERVER_URL: 'bench-server:8080' }, '/x')).toThrow(
      'BENCH_SERVER_URL="bench-server:8080": expected http://HOST:PORT',
    );
  });
});
