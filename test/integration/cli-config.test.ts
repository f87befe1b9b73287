// Acceptance (foundation #4): a malformed bench.config.yaml stops `bench start` with exit code 2
// and one message naming the file, the line or key, and what was expected.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runBench, tempDir } from '@bench/testing';

const cases: [string, string, RegExp][] = [
  ['bad YAML', 'hosts:\n  - id: pc1\n    benches: [\n', /^bench: bench\.config\.yaml:4:1: invalid YAML: .+$/],
  [
    'duplicate port path',
    'hosts:\n  - id: pc1\n    benches:\n      - id: a\n        slots:\n          - { port: 1-1.2, label: A1 }\n          - { port: 1-1.2, label: A2 }\n',
    /^bench: bench\.config\.yaml:7:15: hosts\[0\]\.benches\[0\]\.slots\[1\]\.port: duplicate port path '1-1\.2' \(already used at line 6\); expected each port once per host$/,
  ],
  [
    'unknown key',
    'hosts:\n  - id: pc1\n    colour: red\n',
    /^bench: bench\.config\.yaml:3:5: hosts\[0\]\.colour: unknown key 'colour'; expected one of: id, name, benches$/,
  ],
  [
    'missing label',
    'hosts:\n  - id: pc1\n    benches:\n      - id: a\n        slots:\n          - port: 1-1.2\n',
    /^bench: bench\.config\.yaml:6:13: hosts\[0\]\.benches\[0\]\.slots\[0\]\.label: required: a label such as "A3"$/,
  ],
];

describe('bench start with a malformed bench.config.yaml', () => {
  it.each(cases)('%s → exit 2 with one clear message', async (_name, yaml, expected) => {
    const { dir, remove } = tempDir();
    try {
      writeFileSync(path.join(dir, 'bench.config.yaml'), yaml);
      const result = await runBench(['start'], {
        env: { PATH: process.env.PATH, BENCH_HOME: dir, BENCH_CONFIG: 'bench.config.yaml' },
        cwd: dir,
      });
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(expected);
      expect(result.stdout).toBe('');
    } finally {
      remove();
    }
  });
});

describe('bench start without any Redis', () => {
  it('says what to install or set, and exits non-zero without starting anything', async () => {
    const { dir, remove } = tempDir();
    try {
      // No REDIS_URL, nothing on the probe port, and no redis-server on the search path.
      const result = await runBench(['start'], {
        env: { PATH: path.join(dir, 'no-bin'), BENCH_HOME: dir, BENCH_REDIS_PROBE: '127.0.0.1:1' },
        cwd: dir,
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(
        /no Redis answers on 127\.0\.0\.1:1 and redis-server is not on PATH: install Redis \(Debian\/Ubuntu: sudo apt-get install redis-server\) .*or set REDIS_URL=redis:\/\/HOST:PORT/,
      );
      expect(result.stdout).not.toMatch(/server ready|agent ready/);
    } finally {
      remove();
    }
  });
});
