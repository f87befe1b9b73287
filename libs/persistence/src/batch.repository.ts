// Batches of runs (an overnight rack, a morning shelf).
import type { BenchDatabase } from './bench-database';

export class BatchRepository {
  constructor(private readonly db: BenchDatabase) {}

  /** Batches newest first, with how many of their runs are in each state. */
  async list(limit = 100) {
    const batches = await this.db.prisma.batch.findMany({
      orderBy: { createdAt: 'desc' },
      take: limit,
      include: { benches: { select: { benchId: true } } },
    });
    const counts = await this.db.prisma.run.groupBy({
      by: ['batchId', 'state'],
      where: { batchId: { in: batches.map((b) => b.id) } },
      _count: { _all: true },
    });
    return batches.map((batch) => ({
      ...batch,
      runStates: Object.fromEntries(
        counts.filter((c) => c.batchId === batch.id).map((c) => [c.state, c._count._all]),
      ) as Record<string, number>,
    }));
  }
}
