// Creates a new migration for both databases from the change in prisma/models.prisma since the
// last migration:  npm run db:migration -- <name>
//
// Why not `prisma migrate dev`: the Prisma CLI needs its native schema engine, downloaded from
// binaries.prisma.sh, which our build machines cannot reach. The same engine ships as
// WebAssembly (@prisma/schema-engine-wasm, a devDependency), driven here through the official
// driver adapters. It diffs the snapshot of the models at the last migration against the
// current models and writes migration.sql per database. Migrations are applied at runtime by
// libs/persistence (MigrationRunner), not by this script.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { modelsSource, providers, root, schemaFor } from './lib/prisma-schemas.mjs';

const require = createRequire(import.meta.url);
const name = (process.argv[2] ?? '').replace(/[^a-z0-9_]/gi, '_');
if (!name) {
  console.error('usage: npm run db:migration -- <name>');
  process.exit(2);
}

async function loadEngine() {
  const dir = path.join(root, 'node_modules/@prisma/schema-engine-wasm');
  const bg = await import(path.join(dir, 'schema_engine_bg.js'));
  const module = await WebAssembly.compile(readFileSync(path.join(dir, 'schema_engine_bg.wasm')));
  const instance = await WebAssembly.instantiate(module, { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start?.();
  return bg.SchemaEngine;
}

function adapterFor(provider) {
  const { bindMigrationAwareSqlAdapterFactory } = require('@prisma/driver-adapter-utils');
  if (provider === 'sqlite') {
    const { PrismaBetterSqlite3 } = require('@prisma/adapter-better-sqlite3');
    return bindMigrationAwareSqlAdapterFactory(new PrismaBetterSqlite3({ url: ':memory:' }));
  }
  const { PrismaPg } = require('@prisma/adapter-pg');
  const url = process.env.MIGRATION_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  return bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: url }));
}

const snapshotFile = path.join(root, 'prisma/migrations/models.snapshot.prisma');
const previous = existsSync(snapshotFile) ? readFileSync(snapshotFile, 'utf8') : null;
const current = modelsSource();
const SchemaEngine = await loadEngine();
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
let wrote = 0;
for (const provider of providers) {
  const to = schemaFor(provider, current);
  const engine = await SchemaEngine.new(
    { datamodels: [['schema.prisma', to]] },
    () => {},
    adapterFor(provider),
  );
  const from =
    previous === null
      ? { tag: 'empty' }
      : {
          tag: 'schemaDatamodel',
          files: [{ path: 'schema.prisma', content: schemaFor(provider, previous) }],
        };
  const result = await engine.diff({
    from,
    to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: to }] },
    script: true,
    exitCode: null,
    filters: { externalTables: [], externalEnums: [] },
  });
  const sql = (result.stdout ?? '').trim();
  if (!sql || sql === '-- This is an empty migration.') {
    console.log(`${provider}: no changes`);
    continue;
  }
  const dir = path.join(root, 'prisma/migrations', provider, `${stamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'migration.sql'), `${sql}\n`);
  console.log(`${provider}: wrote ${path.relative(root, dir)}/migration.sql`);
  wrote++;
}
if (wrote > 0) writeFileSync(snapshotFile, current);
process.exit(0);
