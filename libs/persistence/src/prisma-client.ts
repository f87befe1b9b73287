// The only place that builds a Prisma client. Prisma 7 needs one generated client per database
// provider; both come from prisma/models.prisma, so their model APIs are identical.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqliteClient } from './generated/sqlite/client';
import { PrismaClient as PostgresClient } from './generated/postgresql/client';
import type { DatabaseTarget } from './database-url';

/** The client type the application codes against (the common model API of both generated clients). */
export type BenchPrisma = SqliteClient;

export function createPrismaClient(target: DatabaseTarget): BenchPrisma {
  if (target.kind === 'sqlite') {
    mkdirSync(path.dirname(target.file), { recursive: true });
    // timeout: how long a writer waits for the other process's write lock (server and agent share the file).
    return new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: target.file, timeout: 10_000 }) });
  }
  const adapter = new PrismaPg(
    { connectionString: target.connectionString, max: 10, connectionTimeoutMillis: 5_000 },
    { schema: target.schema },
  );
  // Both clients are generated from the same models, so the model API is the same; only the
  // provider-specific extras (e.g. case-insensitive filters) differ, and we do not use them.
  return new PostgresClient({ adapter }) as unknown as BenchPrisma;
}
