// `npm run bench:admission`: 16 phones on one simulated USB 2.0 controller, restored by the whole
// bench (`bench start`) twice: with admission control at its default (2 filesystem uploads per
// controller at a time) and without it (BENCH_UPLOADS_PER_CONTROLLER=64: every upload at once).
// Target (issue 7, acceptance 4): with admission the 16 finish sooner, and no upload times out.
//
// The simulator runs inside the agent (`--simulate`): after a timed-out upload a real phone is in
// recovery mode, and only the in-process simulator offers the USB-level access that needs (the
// remote one of bench:agent sees normal and restore mode only). This benchmark measures time and
// outcomes, not the agent's CPU, so the simulator's share does not matter here.
//
// A 1:10 scale model, so the run takes minutes and moves gigabytes rather than a hundred:
// the filesystem image is a tenth of a real one (700 MiB for 7 GB) and so is the controller's
// bandwidth (48 Mbit/s for 480), so every upload takes as long in simulated time as the real one
// would, and the stage budgets (device time, scaled by the speed factor like every simulated
// run's) are untouched. What the model keeps: the bus is shared fairly among the uploads on it
// (max-min fair share, bandwidth.ts) with no extra loss for contention, so any gain comes from
// the uploads themselves, not from a penalty we invented. The filesystem budget is 20 minutes of
// device time at least (5 MB/s beyond that), as on real hardware; sixteen uploads of 7 GB
// sharing 480 Mbit/s get 3.75 MB/s each and need 31 minutes.
import path from 'node:path';
import Database from 'better-sqlite3';
import { BenchProcess } from './bench-process';
import { MiB, record, table } from './bench-report';
import { mean, verdict } from './stats';

const ROOT = path.resolve(__dirname, '../..');
const PHONES = 16;
const SCALE = 10;
const CAPACITY_BPS = 480_000_000 / SCALE;
const IMAGE_BYTES = 700 * MiB;
const SPEED = 20;
const DEADLINE_MS = 20 * 60_000;
const FINAL_RUN_STATES = new Set(['done', 'failed', 'cancelled']);

interface RunRow {
  state: string;
  createdAt: string | number;
  finishedAt: string | number | null;
}

interface AttemptRow {
  lastStage: string | null;
  outcome: string;
  failureClass: string | null;
  message: string | null;
}

interface Outcome {
  label: string;
  uploadsPerController: number;
  done: number;
  other: Map<string, number>;
  uploadTimeouts: number;
  attempts: number;
  /** Seconds from the phones going in to each run's end. */
  finishSeconds: number[];
  makespanSeconds: number;
  finished: boolean;
  /** Why attempts failed: `class at stage: message` → count. */
  failures: Map<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runOnce(label: string, uploadsPerController: number): Promise<Outcome> {
  const bench = await BenchProcess.start({
    BENCH_SIMULATE: String(PHONES),
    BENCH_SIM_SPEED: String(SPEED),
    BENCH_SIM_SEED: '1',
    BENCH_SIM_START_MODE: 'normal',
    BENCH_SIM_OS_SIZE: String(IMAGE_BYTES),
    BENCH_SIM_PORTS_PER_CONTROLLER: String(PHONES),
    BENCH_SIM_CONTROLLER_MBPS: String(CAPACITY_BPS / 1e6),
    BENCH_UPLOADS_PER_CONTROLLER: String(uploadsPerController),
  });
  try {
    const db = new Database(bench.databaseFile, { readonly: true, fileMustExist: true });
    try {
      let runs: RunRow[] = [];
      const deadline = Date.now() + DEADLINE_MS;
      for (;;) {
        runs = db.prepare('SELECT state, createdAt, finishedAt FROM "Run"').all() as RunRow[];
        if (runs.length >= PHONES && runs.every((run) => FINAL_RUN_STATES.has(run.state))) break;
        if (Date.now() > deadline) break;
        await sleep(1_000);
      }
      const attempts = db
        .prepare('SELECT lastStage, outcome, failureClass, message FROM "Attempt"')
        .all() as AttemptRow[];
      // The phones are on the bench when it starts: time runs from the first run's creation.
      const firstCreated = Math.min(...runs.map((run) => toMs(run.createdAt)));
      const finishSeconds = runs
        .filter((run) => run.finishedAt !== null)
        .map((run) => (toMs(run.finishedAt) - firstCreated) / 1000);
      const other = new Map<string, number>();
      for (const run of runs.filter((r) => r.state !== 'done'))
        other.set(run.state, (other.get(run.state) ?? 0) + 1);
      return {
        label,
        uploadsPerController,
        done: runs.filter((run) => run.state === 'done').length,
        other,
        uploadTimeouts: attempts.filter(
          (a) => a.lastStage === 'send-filesystem' && a.outcome !== 'done' && a.failureClass !== null,
        ).length,
        attempts: attempts.length,
        failures: countFailures(attempts),
        finishSeconds,
        makespanSeconds: Math.max(0, ...finishSeconds),
        finished: runs.length >= PHONES && runs.every((run) => FINAL_RUN_STATES.has(run.state)),
      };
    } finally {
      db.close();
    }
  } finally {
    await bench.stop();
  }
}

function countFailures(attempts: AttemptRow[]): Map<string, number> {
  const failures = new Map<string, number>();
  for (const a of attempts.filter((x) => x.outcome === 'failed')) {
    const key = `${a.failureClass ?? '?'} at ${a.lastStage ?? '?'}: ${(a.message ?? '').slice(0, 120)}`;
    failures.set(key, (failures.get(key) ?? 0) + 1);
  }
  return failures;
}

function toMs(value: string | number | null): number {
  if (value === null) return NaN;
  return typeof value === 'number' ? value : new Date(value).getTime();
}

function describeOthers(outcome: Outcome): string {
  if (outcome.other.size === 0) return '—';
  return [...outcome.other].map(([state, count]) => `${count} ${state}`).join(', ');
}

async function main(): Promise<void> {
  process.stdout.write(
    `bench:admission: two runs of ${PHONES} phones at ${SPEED}x, up to ${DEADLINE_MS / 60_000} minutes each\n`,
  );
  const withAdmission = await runOnce('with admission control', 2);
  process.stdout.write(
    `  with admission: ${withAdmission.done}/${PHONES} done in ${withAdmission.makespanSeconds.toFixed(0)} s\n`,
  );
  const without = await runOnce('without (every upload at once)', 64);
  process.stdout.write(
    `  without: ${without.done}/${PHONES} done, ${without.uploadTimeouts} upload timeouts\n`,
  );

  const simulated = (seconds: number) =>
    `${seconds.toFixed(0)} s (${((seconds * SPEED) / 60).toFixed(0)} simulated min)`;
  const rows = [withAdmission, without].map((o) => [
    o.label,
    o.uploadsPerController === 64 ? '64 (no limit)' : String(o.uploadsPerController),
    `${o.done}/${PHONES}`,
    describeOthers(o),
    o.uploadTimeouts,
    o.attempts,
    o.done > 0 ? simulated(mean(o.finishSeconds)) : '—',
    o.finished ? simulated(o.makespanSeconds) : 'not finished',
  ]);
  const sooner =
    withAdmission.done === PHONES &&
    (without.done < PHONES || withAdmission.makespanSeconds < without.makespanSeconds);
  const body = [
    `${PHONES} phones in iOS (normal mode) on one simulated controller, restored by \`bench start --simulate ${PHONES}\``,
    `(speed ${SPEED}×; BENCH_SIM_PORTS_PER_CONTROLLER=${PHONES}). A 1:${SCALE} scale model: a ${IMAGE_BYTES / MiB} MiB`,
    `filesystem image on a ${CAPACITY_BPS / 1e6} Mbit/s controller takes as long as a ${(IMAGE_BYTES * SCALE) / 1e9 > 7 ? '7.3' : ((IMAGE_BYTES * SCALE) / 1e9).toFixed(1)} GB image on USB 2.0; the bus is shared`,
    'max-min fairly with no contention penalty; stage budgets are the defaults in device time (20 min at least for the',
    'filesystem), policy `default` (a timed-out upload is `stuck`: retried once, then the phone is kicked out and retried,',
    'then its port power-cycled and retried, then a human is asked). "Upload timeouts": attempts that failed in',
    "send-filesystem. Times run from the first run's creation (the phones are on the bench when it starts) to each run's end.",
    '',
    table(
      [
        'run',
        'uploads per controller',
        'done',
        'other outcomes',
        'upload timeouts',
        'attempts',
        'mean time to end',
        'last run ended',
      ],
      rows,
    ),
    '',
    ...[withAdmission, without].map(
      (o) =>
        `Failed attempts ${o.label}: ${
          o.failures.size === 0
            ? 'none'
            : [...o.failures].map(([why, count]) => `${count} × ${why}`).join('; ')
        }.`,
    ),
    '',
    table(
      ['measure', 'result', 'target', ''],
      [
        [
          'all 16 finish sooner with admission',
          `with: ${withAdmission.done}/${PHONES} done, last at ${simulated(withAdmission.makespanSeconds)}; without: ${without.done}/${PHONES} done`,
          'sooner',
          verdict(sooner),
        ],
        [
          'upload timeouts with admission',
          String(withAdmission.uploadTimeouts),
          '0',
          verdict(withAdmission.uploadTimeouts === 0),
        ],
      ],
    ),
  ].join('\n');
  process.stdout.write(`\n${body}\n`);
  record(
    ROOT,
    'Admission control, 16 phones on one controller (bench:admission)',
    'npm run bench:admission',
    body,
  );
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:admission failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
