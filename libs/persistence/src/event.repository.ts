import type { BenchDatabase } from './bench-database';

export interface NewEvent {
  kind: string;
  at?: Date;
  hostId?: string;
  slotId?: string;
  runId?: string;
  deviceEcid?: string;
  payload?: unknown;
}

/** The append-only event log: this class offers no update or delete on purpose. */
export class EventRepository {
  constructor(private readonly db: BenchDatabase) {}

  async append(event: NewEvent): Promise<number> {
    const row = await this.db.prisma.event.create({
      data: {
        kind: event.kind,
        at: event.at,
        hostId: event.hostId,
        slotId: event.slotId,
        runId: event.runId,
        deviceEcid: event.deviceEcid,
        payload: event.payload === undefined ? undefined : JSON.stringify(event.payload),
      },
      select: { id: true },
    });
    return row.id;
  }

  async listForRun(runId: string) {
    const rows = await this.db.prisma.event.findMany({ where: { runId }, orderBy: { id: 'asc' } });
    return rows.map((row) => ({
      ...row,
      payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown),
    }));
  }
}
