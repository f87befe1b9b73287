// Applies the committed SQL migrations (prisma/migrations/<provider>/<name>/migration.sql) in
// name order, each once, recording name and checksum. Written here rather than using
// `prisma migrate deploy` because the Prisma CLI needs a native engine binary that it downloads
// at run time, and a bench PC may be offline; the SQL itself is produced by Prisma's engine
// (scripts/prisma-migration.mjs).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { DatabaseTarget } from './database-url';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export function findMigrationsRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new MigrationError(`cannot find prisma/migrations above ${from}`);
    dir = parent;
  }
}

export function loadMigrations(provider: DatabaseTarget['kind'], root = findMigrationsRoot()): Migration[] {
  const dir = path.join(root, provider);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export async function migrate(
  target: DatabaseTarget,
  migrations = loadMigrations(target.kind),
): Promise<MigrationResult> {
  return target.kind === 'sqlite'
    ? migrateSqlite(target.file, migrations)
    : migratePostgres(target, migrations);
}

function checkHistory(applied: Map<string, string>, migrations: Migration[]): Migration[] {
  const known = new Set(migrations.map((m) => m.name));
  for (const name of applied.keys()) {
    if (!known.has(name)) {
      throw new MigrationError(
        `the database has migration '${name}' that this version of bench does not know; it was written by a newer bench`,
      );
    }
  }
  for (const m of migrations) {
    const checksum = applied.get(m.name);
    if (checksum !== undefined && checksum !== m.checksum) {
      throw new MigrationError(`migration '${m.name}' was changed after it was applied (checksum mismatch)`);
    }
  }
  return migrations.filter((m) => !applied.has(m.name));
}

function migrateSqlite(file: string, migrations: Migration[]): MigrationResult {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { timeout: 10_000 });
  try {
    // WAL lets the server read while the agent writes; the setting is stored in the file.
    db.pragma('journal_mode = WAL');
    db.exec(
      'CREATE TABLE IF NOT EXISTS "_bench_migrations" ("name" TEXT PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)',
    );
    // BEGIN IMMEDIATE takes the write lock first, so two processes starting together apply each migration once.
    const run = db.transaction(() => {
      const rows = db.prepare('SELECT "name", "checksum" FROM "_bench_migrations"').all() as {
        name: string;
        checksum: string;
      }[];
      const pending = checkHistory(new Map(rows.map((r) => [r.name, r.checksum])), migrations);
      for (const m of pending) {
        db.exec(m.sql);
        db.prepare('INSERT INTO "_bench_migrations" ("name", "checksum", "appliedAt") VALUES (?, ?, ?)').run(
          m.name,
          m.checksum,
          new Date().toISOString(),
        );
      }
      return { applied: pending.map((m) => m.name), alreadyApplied: rows.length };
    });
    return run.immediate();
  } finally {
    db.close();
  }
}

async function migratePostgres(
  target: Extract<DatabaseTarget, { kind: 'postgresql' }>,
  migrations: Migration[],
): Promise<MigrationResult> {
  const client = new Client({ connectionString: target.connectionString, connectionTimeoutMillis: 5_000 });
  await client.connect();
  const schema = `"${target.schema}"`;
  try {
    // One migrator at a time across servers and agents sharing the database.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`bench-migrations:${target.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET search_path TO ${schema}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS "_bench_migrations" ("name" TEXT PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TIMESTAMPTZ NOT NULL)',
    );
    const { rows } = await client.query<{ name: string; checksum: string }>(
      'SELECT "name", "checksum" FROM "_bench_migrations"',
    );
    const pending = checkHistory(new Map(rows.map((r) => [r.name, r.checksum])), migrations);
    for (const m of pending) {
      await client.query('BEGIN');
      try {
        // Prisma's SQL starts with CREATE SCHEMA "public"; our tables follow search_path.
        await client.query(m.sql.replace(/^CREATE SCHEMA IF NOT EXISTS "public";$/m, ''));
        await client.query(
          'INSERT INTO "_bench_migrations" ("name", "checksum", "appliedAt") VALUES ($1, $2, now())',
          [m.name, m.checksum],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new MigrationError(`migration '${m.name}' failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    return { applied: pending.map((m) => m.name), alreadyApplied: rows.length };
  } finally {
    await client.end();
  }
}
