import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The installed bench directory (where package.json says "name": "bench"), from sources or dist/. */
export function findInstallRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'bench'
    ) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the bench installation above ${from}`);
    dir = parent;
  }
}
