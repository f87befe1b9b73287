// Runs after `npm install`: generate the Prisma clients, then compile to dist/ so `bench` works.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
for (const script of ['prisma-generate.mjs', 'build.mjs']) {
  execFileSync(process.execPath, [path.join(root, 'scripts', script)], { cwd: root, stdio: 'inherit' });
}
