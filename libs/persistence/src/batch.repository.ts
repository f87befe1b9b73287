// Batches of runs (an overnight rack, a morning shelf). The batch row is the state of its step
// machine (apps/server/src/batches): every change of state is a compare-and-set on the current
// state, so two servers (or a server and its restarted self) never both take the same step.
import type { BenchDatabase } from './bench-database';

export interface NewBatch {
  name: string;
  firmwareSelector: string;
  behavior: string;
  scheduledAt: Date;
  policy?: string;
  slotIds: string[];
  benchIds: string[];
  createdBy?: string;
}

/** The JSON columns and texts a step writes besides the state. */
export interface BatchFields {
  message?: string | null;
  prefetch?: string | null;
  signingCheck?: string | null;
  warnings?: string | null;
  startedAt?: Date;
  finishedAt?: Date;
}

/** States in which a batch still has steps to take (its scheduler keeps ticking). */
const LIVE_STATES = ['scheduled', 'prefetching', 'running', 'paused', 'attention'];

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

  async find(id: string) {
    const batch = await this.db.prisma.batch.findUnique({
      where: { id },
      include: { benches: { select: { benchId: true } } },
    });
    if (!batch) return undefined;
    const counts = await this.db.prisma.run.groupBy({
      by: ['state'],
      where: { batchId: id },
      _count: { _all: true },
    });
    const runStates = Object.fromEntries(counts.map((c) => [c.state, c._count._all])) as Record<
      string,
      number
    >;
    return { ...batch, runStates };
  }

  async create(batch: NewBatch) {
    const row = await this.db.prisma.batch.create({
      data: {
        name: batch.name,
        firmwareSelector: batch.firmwareSelector,
        behavior: batch.behavior,
        scheduledAt: batch.scheduledAt,
        policy: batch.policy,
        slotIds: JSON.stringify(batch.slotIds),
        createdBy: batch.createdBy,
        benches: { create: batch.benchIds.map((benchId) => ({ benchId })) },
      },
    });
    return (await this.find(row.id)) as NonNullable<Awaited<ReturnType<BatchRepository['find']>>>;
  }

  /** Moves the batch from one of `from` to `to` (with `fields`); false when it was in none of them. */
  async transition(
    id: string,
    from: readonly string[],
    to: string,
    fields: BatchFields = {},
  ): Promise<boolean> {
    const { count } = await this.db.prisma.batch.updateMany({
      where: { id, state: { in: [...from] } },
      data: { state: to, ...fields },
    });
    return count > 0;
  }

  /** Writes step data without changing the state. */
  async update(id: string, fields: BatchFields): Promise<void> {
    await this.db.prisma.batch.updateMany({ where: { id }, data: fields });
  }

  /** Batches with steps left: live ones, and cancelled ones whose runs have not all ended. */
  unfinished() {
    return this.db.prisma.batch.findMany({
      where: {
        OR: [{ state: { in: LIVE_STATES } }, { state: 'cancelled', finishedAt: null }],
      },
      select: { id: true, state: true, scheduledAt: true },
    });
  }

  /** The runs of a batch, oldest first. */
  runs(batchId: string) {
    return this.db.prisma.run.findMany({ where: { batchId }, orderBy: { createdAt: 'asc' } });
  }

  /** Moves a run of the batch between states when it is in `from` (holding and releasing runs). */
  async setRunState(runId: string, from: string, to: string): Promise<boolean> {
    const { count } = await this.db.prisma.run.updateMany({
      where: { id: runId, state: from },
      data: { state: to },
    });
    return count > 0;
  }

  /** The ids among `ids` that name a bench. */
  async existingBenches(ids: readonly string[]): Promise<Set<string>> {
    const rows = await this.db.prisma.bench.findMany({
      where: { id: { in: [...ids] } },
      select: { id: true },
    });
    return new Set(rows.map((row) => row.id));
  }

  /** The ids among `ids` that name a slot. */
  async existingSlots(ids: readonly string[]): Promise<Set<string>> {
    const rows = await this.db.prisma.slot.findMany({
      where: { id: { in: [...ids] } },
      select: { id: true },
    });
    return new Set(rows.map((row) => row.id));
  }
}
