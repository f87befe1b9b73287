// The chaos suite drives the built CLI and apps like the other process tiers (dist/ must match
// the sources), and gives its test files one directory to record their figures in: the summary
// reporter adds them up into the suite's last line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import prepare from '../global-setup';
import { FIGURES_DIR_ENV } from './figures';

export default function globalSetup(): void {
  prepare();
  // Workers inherit the environment of the process that runs the global setup.
  process.env[FIGURES_DIR_ENV] ??= mkdtempSync(path.join(tmpdir(), 'bench-chaos-'));
}
