// The real services tests run against (no mocks at the integration tier). CI and the development
// machine run Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (database `test`).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

export const TEST_REDIS_URL = process.env.BENCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_PG_URL = process.env.BENCH_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  kind: 'sqlite' | 'postgresql';
  url: string;
  drop(): Promise<void>;
}

export function tempDir(prefix = 'bench-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sqliteTestDatabase(): TestDatabase {
  const { dir, remove } = tempDir('bench-sqlite-');
  return { kind: 'sqlite', url: `file:${path.join(dir, 'bench.db')}`, drop: async () => remove() };
}

/** A fresh PostgreSQL schema per test file, dropped afterwards. */
export function postgresTestDatabase(): TestDatabase {
  const schema = `bench_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_PG_URL);
  url.searchParams.set('schema', schema);
  return {
    kind: 'postgresql',
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export function bothTestDatabases(): TestDatabase[] {
  return [sqliteTestDatabase(), postgresTestDatabase()];
}
