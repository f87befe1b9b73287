// Acceptance (foundation #3): `bench doctor` prints its table; an unreachable Redis is a FAIL
// with the fix text, and the exit code says so.
import { runBench, tempDir, TEST_REDIS_URL } from '@bench/testing';

describe('bench doctor', () => {
  it('prints the table and passes on a healthy machine', async () => {
    const { dir, remove } = tempDir();
    try {
      const result = await runBench(['doctor'], {
        env: { PATH: process.env.PATH, BENCH_HOME: dir, REDIS_URL: TEST_REDIS_URL },
      });
      expect(result.stdout).toMatch(/^CHECK\s+STATUS\s+DETAIL$/m);
      for (const check of [
        'Node.js',
        'Redis',
        'Redis maxmemory-policy',
        'Database',
        'usbmuxd socket',
        'usbmuxd service',
        'USB access (05ac)',
        'Firmware cache disk',
        'Hub port power',
      ]) {
        expect(result.stdout).toMatch(
          new RegExp(`^${check.replace(/[()]/g, '\\$&')}\\s+(OK|WARN|FAIL)\\s`, 'm'),
        );
      }
      expect(result.stdout).toMatch(/^Redis\s+OK\s/m);
      expect(result.stdout).toMatch(/^Database\s+OK\s+sqlite /m);
      expect(result.code).toBe(0);
    } finally {
      remove();
    }
  });

  it('fails on an unreachable Redis, with the fix, and exits non-zero', async () => {
    const { dir, remove } = tempDir();
    try {
      const result = await runBench(['doctor'], {
        env: { PATH: process.env.PATH, BENCH_HOME: dir, REDIS_URL: 'redis://127.0.0.1:1' },
      });
      expect(result.stdout).toMatch(
        /^Redis\s+FAIL\s+redis:\/\/127\.0\.0\.1:1 unreachable: connect ECONNREFUSED 127\.0\.0\.1:1$/m,
      );
      expect(result.stdout).toMatch(
        /^\s+fix: start the Redis at redis:\/\/127\.0\.0\.1:1 .*correct REDIS_URL/m,
      );
      expect(result.stdout).toMatch(/1 check\(s\) failed/);
      expect(result.code).toBe(1);
    } finally {
      remove();
    }
  });

  it('prints JSON for scripts', async () => {
    const result = await runBench(['doctor', '--json'], {
      env: { PATH: process.env.PATH, REDIS_URL: 'redis://127.0.0.1:1', BENCH_HOME: tempDir().dir },
    });
    const rows = JSON.parse(result.stdout) as { name: string; status: string; fix?: string }[];
    expect(rows.find((r) => r.name === 'Redis')).toMatchObject({ status: 'FAIL' });
    expect(result.code).toBe(1);
  });
});
