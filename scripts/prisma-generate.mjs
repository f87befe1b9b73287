// Generates the Prisma clients (one per database) from prisma/models.prisma.
// Prisma's CLI tries to download its native schema engine on every command; `generate` does
// not need it (it uses WebAssembly), so we point PRISMA_SCHEMA_ENGINE_BINARY at a stub and
// the generation works offline.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { providers, root, writeSchemas } from './lib/prisma-schemas.mjs';

const force = process.argv.includes('--force');
const { files, hash } = writeSchemas();
const stamp = path.join(root, 'libs/persistence/src/generated/.models-hash');
if (!force && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) {
  process.exit(0);
}
const prismaCli = path.join(root, 'node_modules/prisma/build/index.js');
for (const provider of providers) {
  execFileSync(process.execPath, [prismaCli, 'generate', '--schema', files[provider]], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/false',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  });
}
writeFileSync(stamp, hash);
console.log(`prisma clients generated for ${providers.join(', ')}`);
