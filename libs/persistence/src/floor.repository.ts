// What the dashboard and the API read: hosts, benches, slots, their health history and their
// event timeline. Read-only: the recorder and the run service write.
import type { BenchDatabase } from './bench-database';

export class FloorRepository {
  constructor(private readonly db: BenchDatabase) {}

  hosts() {
    return this.db.prisma.host.findMany({ orderBy: { id: 'asc' } });
  }

  benches() {
    return this.db.prisma.bench.findMany({ orderBy: [{ hostId: 'asc' }, { id: 'asc' }] });
  }

  slots() {
    return this.db.prisma.slot.findMany({
      include: { bench: { select: { hostId: true } } },
      orderBy: [{ benchId: 'asc' }, { portPath: 'asc' }],
    });
  }

  slot(id: string) {
    return this.db.prisma.slot.findUnique({
      where: { id },
      include: { bench: { select: { hostId: true } } },
    });
  }

  /** The slot row of a port (a configured bench wins over the host's "unassigned" bench). */
  async slotAt(hostId: string, portPath: string) {
    const rows = await this.db.prisma.slot.findMany({
      where: { portPath, bench: { hostId } },
      include: { bench: { select: { hostId: true } } },
    });
    return rows.find((row) => !row.benchId.endsWith('-unassigned')) ?? rows[0] ?? null;
  }

  /** The newest health samples of a slot, oldest first (for a sparkline). */
  async health(slotId: string, limit = 120) {
    const rows = await this.db.prisma.healthSample.findMany({
      where: { slotId },
      orderBy: { at: 'desc' },
      take: limit,
    });
    return rows.reverse();
  }

  /** The newest events of a slot, newest first. */
  events(slotId: string, limit = 100) {
    return this.db.prisma.event.findMany({ where: { slotId }, orderBy: { id: 'desc' }, take: limit });
  }
}
