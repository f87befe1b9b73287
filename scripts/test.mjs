// `npm test`: the unit and integration tiers with two jest workers, then the e2e tier with one.
// Integration tests mostly wait on simulated phones and child processes, so two at a time use
// a 2-core machine well; e2e tests each run a whole bench (server, agent, simulator, a browser)
// and some assert wall-clock bounds (a host offline within 30 s), so they run one at a time.
// Extra arguments (a test path, -t NAME) go to both jest runs; `--outputFile=FILE` (with `--json`) gets both runs'
// results merged into one file, as one jest run would write it (the totals and testResults).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const jest = path.join(root, 'node_modules/jest/bin/jest.js');
const extra = process.argv.slice(2);
const outputFile = extra.find((arg) => arg.startsWith('--outputFile='))?.slice('--outputFile='.length);
const passThrough = extra.filter((arg) => !arg.startsWith('--outputFile='));

const runs = [
  { name: 'unit+integration', args: ['--selectProjects', 'unit', 'integration', '--maxWorkers=2'] },
  { name: 'e2e', args: ['--selectProjects', 'e2e', '--maxWorkers=1'] },
];

let failed = false;
const parts = [];
for (const [index, run] of runs.entries()) {
  const part = outputFile ? `${outputFile}.${index}` : undefined;
  process.stdout.write(`\n== npm test: ${run.name}\n`);
  const result = spawnSync(
    process.execPath,
    // A path given to npm test may match files of one run only: the other finds none, and passes.
    [jest, ...run.args, '--passWithNoTests', ...passThrough, ...(part ? [`--outputFile=${part}`] : [])],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) failed = true;
  if (part) parts.push(part);
}

if (outputFile) {
  const merged = {
    numPassedTests: 0,
    numFailedTests: 0,
    numPendingTests: 0,
    numTodoTests: 0,
    numTotalTests: 0,
  };
  merged.testResults = [];
  merged.success = !failed;
  for (const part of parts) {
    let result;
    try {
      result = JSON.parse(readFileSync(part, 'utf8'));
    } catch {
      merged.success = false;
      continue;
    }
    for (const key of [
      'numPassedTests',
      'numFailedTests',
      'numPendingTests',
      'numTodoTests',
      'numTotalTests',
    ])
      merged[key] += result[key] ?? 0;
    merged.testResults.push(...(result.testResults ?? []));
    rmSync(part, { force: true });
  }
  writeFileSync(outputFile, JSON.stringify(merged));
}
process.exitCode = failed ? 1 : 0;
