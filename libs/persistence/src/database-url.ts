import path from 'node:path';

export type DatabaseTarget =
  { kind: 'sqlite'; file: string } | { kind: 'postgresql'; connectionString: string; schema: string };

/**
 * `file:PATH` → SQLite (relative paths resolve against `base`);
 * `postgresql://…[?schema=NAME]` → PostgreSQL in that schema (default `public`), as Prisma's URLs do.
 */
export function parseDatabaseUrl(url: string, base = process.cwd()): DatabaseTarget {
  if (url.startsWith('file:')) {
    return { kind: 'sqlite', file: path.resolve(base, url.slice('file:'.length)) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? 'public';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new RangeError(`DATABASE_URL schema '${schema}' is not a plain SQL identifier`);
    }
    parsed.searchParams.delete('schema');
    return { kind: 'postgresql', connectionString: parsed.toString(), schema };
  }
  throw new RangeError(`unsupported DATABASE_URL '${url}': expected file:PATH or postgresql://…`);
}
