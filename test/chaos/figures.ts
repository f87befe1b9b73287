// What each chaos test observed, for the suite's summary line: every test file writes its own
// JSON file into the run's figures directory (made by the global setup), and the summary
// reporter adds them up. Figures are recorded before the assertions, so a failing run still
// reports what it saw.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const FIGURES_DIR_ENV = 'BENCH_CHAOS_FIGURES';

export interface ChaosFigures {
  agentKills: number;
  serverKills: number;
  redisRestarts: number;
  databaseOutageSeconds: number;
  attaches: number;
  malformedInputs: number;
  clearErrors: number;
  runsChecked: number;
  runsLost: number;
  runsDuplicated: number;
  crashes: number;
}

/** Adds `figures` to what this test file recorded before (one file per `name`). */
export function recordFigures(name: string, figures: Partial<ChaosFigures>): void {
  const dir = process.env[FIGURES_DIR_ENV];
  if (!dir) throw new Error(`${FIGURES_DIR_ENV} is not set: run the chaos suite with npm run test:chaos`);
  const file = path.join(dir, `${name}.json`);
  const before = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<ChaosFigures>) : {};
  const after: Partial<ChaosFigures> = { ...before };
  for (const [key, value] of Object.entries(figures) as [keyof ChaosFigures, number][])
    after[key] = (after[key] ?? 0) + value;
  writeFileSync(file, `${JSON.stringify(after, null, 2)}\n`);
}
