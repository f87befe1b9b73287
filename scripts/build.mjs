// Compiles apps/*/src and libs/*/src to dist/ with swc (type checking is `npm run typecheck`).
// swc rewrites the `@bench/<lib>` aliases to relative paths, so dist/ runs with plain node.
// Then bundles the dashboard (apps/dashboard) with Vite into apps/dashboard/dist, which the server serves.
import { transformFile } from '@swc/core';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'dist');
const sourceRoots = ['apps', 'libs']
  .flatMap((top) => readdirSync(path.join(root, top)).map((name) => path.join(root, top, name, 'src')))
  .concat([path.join(root, 'benchmarks')])
  .filter((dir) => !dir.includes(`${path.sep}dashboard${path.sep}`) && exists(dir));

function exists(file) {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts'))
      yield full;
  }
}

const options = {
  sourceMaps: true,
  module: { type: 'commonjs' },
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
    baseUrl: root,
    paths: { '@bench/*': ['libs/*/src'] },
  },
};

// dist/ is updated in place (only changed files are written, files whose source is gone are
// removed), never deleted wholesale: another process (a running bench, a parallel test run) may
// be loading modules from it right now.
const files = sourceRoots.flatMap((dir) => [...walk(dir)]);
const written = new Set();
const started = Date.now();
await Promise.all(
  files.map(async (file) => {
    const target = path.join(out, path.relative(root, file)).replace(/\.ts$/, '.js');
    const { code, map } = await transformFile(file, {
      ...options,
      filename: file,
      sourceFileName: path.relative(path.dirname(target), file),
    });
    mkdirSync(path.dirname(target), { recursive: true });
    writeIfChanged(target, map ? `${code}\n//# sourceMappingURL=${path.basename(target)}.map\n` : code);
    if (map) writeIfChanged(`${target}.map`, map);
  }),
);
for (const stale of [...walkAll(out)].filter((file) => !written.has(file))) rmSync(stale, { force: true });
process.stdout.write(`built ${files.length} files into dist/ in ${Date.now() - started} ms\n`);
await buildDashboard();

function writeIfChanged(file, content) {
  written.add(file);
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return;
  // Write beside and rename: a reader never sees a half-written module.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, file);
}

function* walkAll(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walkAll(full);
    else yield full;
  }
}

// The dashboard is built beside its final place and swapped in, so a server serving the old
// build (or a parallel build) never sees a half-emptied directory.
async function buildDashboard() {
  const dashboard = path.join(root, 'apps/dashboard');
  let vite;
  try {
    vite = await import('vite');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    // A production install without devDependencies keeps the dashboard it was built with.
    process.stdout.write('vite is not installed: apps/dashboard/dist not rebuilt\n');
    return;
  }
  // The bundle users get, whoever runs the build: jest (global setup) runs it with NODE_ENV=test,
  // which made Vite and the Preact preset emit a development bundle (preact/debug, JSX source info).
  process.env.NODE_ENV = 'production';
  const began = Date.now();
  const final = path.join(dashboard, 'dist');
  const staging = path.join(dashboard, `.dist-${process.pid}.tmp`);
  const retired = path.join(dashboard, `.dist-${process.pid}.old`);
  try {
    await vite.build({
      configFile: path.join(dashboard, 'vite.config.mts'),
      logLevel: 'warn',
      build: { outDir: staging, emptyOutDir: true },
    });
    if (existsSync(final)) renameSync(final, retired);
    renameSync(staging, final);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(retired, { recursive: true, force: true });
  }
  process.stdout.write(`built the dashboard into apps/dashboard/dist in ${Date.now() - began} ms\n`);
}
