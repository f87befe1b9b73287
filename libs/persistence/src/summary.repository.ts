// The manager's numbers over a window of time: finished runs, success rate, restores per hour,
// failed attempts by class and by port. Computed from the record (runs and attempts).
import type { BenchDatabase } from './bench-database';

export interface RecordSummary {
  finishedRuns: number;
  doneRuns: number;
  restoresPerHour: number;
  successRate: number | null;
  failuresByClass: Record<string, number>;
  failuresByPort: { hostId: string; portPath: string; failures: number }[];
}

export class SummaryRepository {
  constructor(private readonly db: BenchDatabase) {}

  async summary(since: Date, until: Date = new Date()): Promise<RecordSummary> {
    const prisma = this.db.prisma;
    const finished = await prisma.run.groupBy({
      by: ['state'],
      where: { finishedAt: { gte: since, lte: until }, state: { in: ['done', 'failed', 'cancelled'] } },
      _count: { _all: true },
    });
    const count = (state: string) => finished.find((row) => row.state === state)?._count._all ?? 0;
    const doneRuns = count('done');
    const failedRuns = count('failed');
    const hours = Math.max((until.getTime() - since.getTime()) / 3_600_000, 1 / 60);
    const failedAttempts = await prisma.attempt.findMany({
      where: { outcome: 'failed', endedAt: { gte: since, lte: until } },
      select: { failureClass: true, run: { select: { hostId: true, portPath: true } } },
    });
    const byClass: Record<string, number> = {};
    const byPort = new Map<string, { hostId: string; portPath: string; failures: number }>();
    for (const attempt of failedAttempts) {
      const failureClass = attempt.failureClass ?? 'unknown';
      byClass[failureClass] = (byClass[failureClass] ?? 0) + 1;
      const key = `${attempt.run.hostId}\u0000${attempt.run.portPath}`;
      const port = byPort.get(key) ?? { ...attempt.run, failures: 0 };
      port.failures++;
      byPort.set(key, port);
    }
    return {
      finishedRuns: doneRuns + failedRuns + count('cancelled'),
      doneRuns,
      restoresPerHour: doneRuns / hours,
      // Cancelled runs are an operator's choice, not a success or a failure of the bench.
      successRate: doneRuns + failedRuns > 0 ? doneRuns / (doneRuns + failedRuns) : null,
      failuresByClass: byClass,
      failuresByPort: [...byPort.values()].sort((a, b) => b.failures - a.failures),
    };
  }
}
