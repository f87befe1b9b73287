import { parseDatabaseUrl, type DatabaseTarget } from './database-url';
import { migrate, type MigrationResult } from './migration-runner';
import { createPrismaClient, type BenchPrisma } from './prisma-client';

/** Owns one Prisma client for a database URL; the rest of persistence builds on it. */
export class BenchDatabase {
  readonly prisma: BenchPrisma;

  constructor(readonly target: DatabaseTarget) {
    this.prisma = createPrismaClient(target);
  }

  static fromUrl(url: string, base?: string): BenchDatabase {
    return new BenchDatabase(parseDatabaseUrl(url, base));
  }

  get kind(): DatabaseTarget['kind'] {
    return this.target.kind;
  }

  /** A human description without credentials, e.g. `sqlite var/bench.db`. */
  describe(): string {
    if (this.target.kind === 'sqlite') return `sqlite ${this.target.file}`;
    const url = new URL(this.target.connectionString);
    return `postgresql ${url.hostname}:${url.port || 5432}${url.pathname} schema ${this.target.schema}`;
  }

  migrate(): Promise<MigrationResult> {
    return migrate(this.target);
  }

  /** Round trip to the database; throws when it is unreachable. */
  async ping(): Promise<void> {
    await this.prisma.$queryRawUnsafe('SELECT 1');
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect();
  }
}
