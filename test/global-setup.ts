// Integration and e2e tests drive the built CLI and apps: make sure dist/ matches the sources.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function globalSetup(): void {
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'scripts/prepare.mjs')], { cwd: root, stdio: 'ignore' });
}
