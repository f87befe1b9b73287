// What reports and restore certificates are built from: a batch's runs (or one run) with their
// attempts, the devices and slots they touched, and the events that tell the rest (the firmware
// chosen, the IPSW's hash, the version a phone had before, the slot state a run ended in,
// quarantined ports). Read only.
import type { BenchDatabase } from './bench-database';

/** Event kinds a report reads for a run (progress and health never reach the log). */
const RUN_EVENT_KINDS = [
  'restore.firmware',
  'restore.done',
  'attempt.started',
  'attempt.ended',
  'run.ended',
  'slot.state',
];

export class ReportRepository {
  constructor(private readonly db: BenchDatabase) {}

  /** The batch and everything its report needs; undefined when there is no such batch. */
  async batchRecords(batchId: string) {
    const batch = await this.db.prisma.batch.findUnique({
      where: { id: batchId },
      include: { benches: { select: { benchId: true } } },
    });
    if (!batch) return undefined;
    const runs = await this.db.prisma.run.findMany({
      where: { batchId },
      orderBy: { createdAt: 'asc' },
      include: { attempts: { orderBy: { number: 'asc' } } },
    });
    const around = await this.around(runs, {
      benchIds: batch.benches.map((b) => b.benchId),
      since: batch.startedAt ?? batch.createdAt,
      until: batch.finishedAt ?? undefined,
    });
    return { batch, ...around };
  }

  /** One run and what its report row (or certificate) needs; undefined when there is no such run. */
  async runRecords(runId: string) {
    const run = await this.db.prisma.run.findUnique({
      where: { id: runId },
      include: { attempts: { orderBy: { number: 'asc' } } },
    });
    if (!run) return undefined;
    return { run, ...(await this.around([run], { benchIds: [], since: run.createdAt })) };
  }

  private async around<R extends { id: string; slotId: string; deviceEcid: string | null }>(
    runs: R[],
    scope: { benchIds: string[]; since: Date; until?: Date },
  ) {
    const prisma = this.db.prisma;
    const runIds = runs.map((r) => r.id);
    const ecids = [...new Set(runs.map((r) => r.deviceEcid).filter((e): e is string => e !== null))];
    const slotRows = await prisma.slot.findMany({
      where: {
        OR: [{ id: { in: [...new Set(runs.map((r) => r.slotId))] } }, { benchId: { in: scope.benchIds } }],
      },
      include: { bench: { select: { hostId: true } } },
    });
    const slots = slotRows.map(({ bench, ...slot }) => ({ ...slot, hostId: bench.hostId }));
    const devices = await prisma.device.findMany({ where: { ecid: { in: ecids } } });
    const rows = await prisma.event.findMany({
      where: {
        OR: [
          { runId: { in: runIds }, kind: { in: RUN_EVENT_KINDS } },
          { kind: 'device.seen', deviceEcid: { in: ecids } },
          {
            kind: 'port.quarantined',
            slotId: { in: slots.map((s) => s.id) },
            at: { gte: scope.since, ...(scope.until ? { lte: scope.until } : {}) },
          },
        ],
      },
      orderBy: { id: 'asc' },
    });
    const events = rows.map((row) => ({ ...row, payload: parsePayload(row.payload) }));
    return { runs, devices, slots, events };
  }
}

/** A payload that is not JSON (hand-edited, truncated) reads as absent rather than failing the report. */
function parsePayload(payload: string | null): unknown {
  if (payload === null) return null;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return null;
  }
}
