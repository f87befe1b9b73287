// Shared by the chaos tests: the live slots of a running bench (read from its Redis, so they
// survive agent restarts), kill -9 of a supervised child, what the supervisor's output says
// about exits and crashes, and the ledger check "no run lost or duplicated" against the record.
import type { Redis } from 'ioredis';
import { createRedis, LiveState, type LiveSlot } from '@bench/jobs';
import type { BenchPrisma } from '@bench/persistence';
import { isAlive, waitFor } from '@bench/testing';
import type { RunningBench } from '../e2e/bench-process.helper';

export type ChildApp = 'server' | 'agent';

/** Run states the record may end in: done, or a classified failure, or an operator's cancel. */
const FINAL_RUN_STATES = ['done', 'failed', 'cancelled'];

/** Reads the slots one host reports, from the Redis the bench uses. */
export class LiveSlots {
  private readonly redis: Redis;
  private readonly live: LiveState;
  /** Each slot's state/stage as this reader saw it change (for a stall's diagnosis). */
  private readonly seen = new Map<string, { last: string; trace: string[] }>();

  constructor(
    redisUrl: string,
    private readonly hostId: string,
  ) {
    this.redis = createRedis(redisUrl, 'worker');
    this.redis.on('error', () => undefined);
    this.live = new LiveState(this.redis);
  }

  async all(): Promise<LiveSlot[]> {
    const slots = await this.live.slots(this.hostId);
    for (const slot of slots) this.note(slot);
    return slots;
  }

  /** What each slot showed, change by change, with the wall-clock time this reader saw it. */
  trace(): string[] {
    return [...this.seen.entries()].map(([port, { trace }]) => `seen on ${port}: ${trace.join(' → ')}`);
  }

  private note(slot: LiveSlot): void {
    const shown = `${slot.state}${slot.stage ? `/${slot.stage}` : ''}${slot.attempt ? ` #${slot.attempt}` : ''}`;
    const entry = this.seen.get(slot.portPath) ?? { last: '', trace: [] };
    this.seen.set(slot.portPath, entry);
    if (entry.last === shown) return;
    entry.last = shown;
    entry.trace.push(`${new Date().toISOString().slice(11, 23)} ${shown}`);
    if (entry.trace.length > 40) entry.trace.shift();
  }

  /** Slots with a phone on them. */
  async phones(): Promise<LiveSlot[]> {
    return (await this.all()).filter((slot) => slot.ecid);
  }

  /** A slot whose phone is receiving its filesystem now (or queued for an upload slot). */
  async uploading(): Promise<LiveSlot | undefined> {
    return (await this.all()).find((slot) => slot.state === 'restoring' && slot.stage === 'send-filesystem');
  }

  close(): void {
    this.redis.disconnect();
  }
}

function childPid(bench: RunningBench, app: ChildApp): number | undefined {
  return bench.state()[app]?.pid;
}

/** kill -9 of the server or the agent; resolves once it is dead. Returns the killed pid. */
export async function killChild(bench: RunningBench, app: ChildApp): Promise<number> {
  const pid = childPid(bench, app);
  if (!pid) throw new Error(`no ${app} pid in var/run/bench.json`);
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !isAlive(pid) || undefined, 10_000, `the ${app} (pid ${pid}) to die`);
  return pid;
}

/** Waits until the supervisor reports a new `app` ready (bench.json names a pid other than `killed`). */
export async function waitForRestart(
  bench: RunningBench,
  app: ChildApp,
  killed: number,
  timeoutMs = 180_000,
): Promise<number> {
  return waitFor(
    () => {
      const pid = childPid(bench, app);
      return pid && pid !== killed && isAlive(pid) ? pid : undefined;
    },
    timeoutMs,
    `the supervisor to restart the ${app} killed as pid ${killed}`,
  );
}

export interface ExitReport {
  /** Child exits by SIGKILL, per app name as the supervisor logs it (server, bench-agent). */
  killed: Record<string, number>;
  /** Exits that were not our kill -9: crashes (a code, another signal). */
  unexpected: string[];
  /** Lines of an uncaught error or a Node stack trace (a crash the supervisor may not have seen). */
  traces: string[];
}

/** What the supervisor's output (JSON log lines plus the children's stderr) says about exits. */
export function exitReport(output: string): ExitReport {
  const report: ExitReport = { killed: {}, unexpected: [], traces: [] };
  for (const line of output.split('\n')) {
    const exit = /"msg":"[^"]*?\b(server|bench-agent) exited \(([^)]+)\)/.exec(line);
    if (exit) {
      if (exit[2] === 'SIGKILL') report.killed[exit[1]] = (report.killed[exit[1]] ?? 0) + 1;
      else report.unexpected.push(`${exit[1]} exited (${exit[2]})`);
      continue;
    }
    const isLogLine = line.startsWith('{');
    if (!isLogLine && /^\s+at .+:\d+:\d+\)?$|Uncaught|UnhandledPromiseRejection|FATAL ERROR/.test(line))
      report.traces.push(line.trim());
    if (isLogLine && /"level":60|uncaught exception|unhandled rejection/i.test(line))
      report.traces.push(line.slice(0, 300));
  }
  return report;
}

/** The last lines a bench printed, for a failure message. */
export function outputTail(bench: RunningBench, lines = 40): string {
  return bench.process.output.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Crashes in a report: unexpected exits, plus one for any stack trace or uncaught error seen. */
export function crashCount(report: ExitReport): number {
  return report.unexpected.length + (report.traces.length > 0 ? 1 : 0);
}

export interface LedgerCheck {
  runs: number;
  lost: number;
  duplicated: number;
  /** Each problem in words, for the assertion message. */
  problems: string[];
  states: Record<string, number>;
}

/**
 * "No run lost or duplicated" against the record: one run per phone, each in a final state with
 * exactly one run.ended event, each attempt number started once.
 */
export async function checkLedger(prisma: BenchPrisma, ecids: string[]): Promise<LedgerCheck> {
  const runs = await prisma.run.findMany({ include: { attempts: true } });
  const events = await prisma.event.findMany({
    where: { kind: { in: ['run.ended', 'attempt.started'] } },
    select: { kind: true, runId: true, payload: true },
  });
  const check: LedgerCheck = { runs: runs.length, lost: 0, duplicated: 0, problems: [], states: {} };
  for (const run of runs) check.states[run.state] = (check.states[run.state] ?? 0) + 1;
  for (const ecid of ecids) {
    const mine = runs.filter((run) => run.deviceEcid === ecid);
    if (mine.length === 0) {
      check.lost++;
      check.problems.push(`phone ${ecid} has no run`);
    } else if (mine.length > 1) {
      check.duplicated += mine.length - 1;
      check.problems.push(`phone ${ecid} has ${mine.length} runs`);
    }
  }
  for (const run of runs) {
    const ended = events.filter((e) => e.kind === 'run.ended' && e.runId === run.id).length;
    if (!FINAL_RUN_STATES.includes(run.state) || ended === 0) {
      check.lost++;
      check.problems.push(
        `run ${run.id} (${run.deviceEcid}) is ${run.state} with ${ended} run.ended event(s)`,
      );
    } else if (ended > 1) {
      check.duplicated += ended - 1;
      check.problems.push(`run ${run.id} (${run.deviceEcid}) ended ${ended} times`);
    }
    const started = new Map<number, number>();
    for (const event of events.filter((e) => e.kind === 'attempt.started' && e.runId === run.id)) {
      const number = (JSON.parse(event.payload ?? '{}') as { number?: number }).number ?? -1;
      started.set(number, (started.get(number) ?? 0) + 1);
    }
    for (const [number, count] of started) {
      if (count > 1) {
        check.duplicated += count - 1;
        check.problems.push(`run ${run.id} started attempt ${number} ${count} times`);
      }
    }
    const numbers = run.attempts.map((a) => a.number).sort((a, b) => a - b);
    if (numbers.some((n, i) => n !== i + 1))
      check.problems.push(`run ${run.id} has attempts numbered ${numbers.join(', ')}`);
  }
  return check;
}

/** Waits for the record to settle (every run final and ended once), then returns the last check. */
export async function settledLedger(
  prisma: BenchPrisma,
  ecids: string[],
  timeoutMs: number,
): Promise<LedgerCheck> {
  const deadline = Date.now() + timeoutMs;
  let check = await checkLedger(prisma, ecids);
  while ((check.lost > 0 || check.runs < ecids.length) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    check = await checkLedger(prisma, ecids).catch(() => check);
  }
  return check;
}

/**
 * What a stalled chaos round looked like, for its failure message: each phone's slot as the floor
 * sees it (state, stage, attempt, detail) and each run's attempts with their failure classes.
 */
export async function stallSnapshot(slots: LiveSlots, prisma: BenchPrisma): Promise<string> {
  const lines: string[] = [];
  for (const slot of await slots.all().catch(() => [])) {
    if (!slot.ecid && slot.state === 'empty') continue;
    const age = Math.round((Date.now() - slot.updatedAt) / 1000);
    lines.push(
      `slot ${slot.portPath}: ${slot.state}${slot.stage ? `/${slot.stage}` : ''} ecid ${slot.ecid ?? '-'} ` +
        `run ${slot.runId ?? '-'} attempt ${slot.attempt ?? '-'}/${slot.maxAttempts ?? '-'} ` +
        `(${age} s ago)${slot.detail ? `: ${slot.detail}` : ''}`,
    );
  }
  const runs = await prisma.run
    .findMany({ include: { attempts: { orderBy: { number: 'asc' } } } })
    .catch(() => []);
  for (const run of runs) {
    const attempts = run.attempts
      .map((a) => `#${a.number} ${a.outcome ?? 'open'}${a.failureClass ? ` ${a.failureClass}` : ''}`)
      .join(', ');
    lines.push(`run ${run.id} ${run.deviceEcid}: ${run.state}; attempts ${attempts || 'none'}`);
  }
  lines.push(...slots.trace());
  return lines.join('\n');
}
