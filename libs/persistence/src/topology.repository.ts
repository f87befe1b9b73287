import type { BenchDatabase } from './bench-database';

export interface TopologySlot {
  portPath: string;
  label?: string;
  gridRow?: number;
  gridCol?: number;
}

export interface TopologyBench {
  id: string;
  name?: string;
  slots: TopologySlot[];
}

/** Hosts, benches and slots: the configured topology mirrored into the database. */
export class TopologyRepository {
  constructor(private readonly db: BenchDatabase) {}

  /**
   * Makes the database match the configured topology of one host. Slots that left the config
   * keep their rows (runs refer to them) but lose their label.
   */
  async syncHost(hostId: string, hostName: string, benches: TopologyBench[]): Promise<void> {
    const prisma = this.db.prisma;
    await prisma.host.upsert({
      where: { id: hostId },
      create: { id: hostId, name: hostName },
      update: { name: hostName },
    });
    for (const bench of benches) {
      await prisma.bench.upsert({
        where: { id: bench.id },
        create: { id: bench.id, hostId, name: bench.name ?? bench.id },
        update: { hostId, name: bench.name ?? bench.id },
      });
      const configured = new Set(bench.slots.map((s) => s.portPath));
      for (const slot of bench.slots) {
        const data = {
          label: slot.label ?? null,
          gridRow: slot.gridRow ?? null,
          gridCol: slot.gridCol ?? null,
        };
        await prisma.slot.upsert({
          where: { benchId_portPath: { benchId: bench.id, portPath: slot.portPath } },
          create: { benchId: bench.id, portPath: slot.portPath, ...data },
          update: data,
        });
      }
      await prisma.slot.updateMany({
        where: { benchId: bench.id, portPath: { notIn: [...configured] } },
        data: { label: null, gridRow: null, gridCol: null },
      });
    }
  }

  async markHostSeen(hostId: string, at = new Date()): Promise<void> {
    await this.db.prisma.host.update({ where: { id: hostId }, data: { lastSeenAt: at } });
  }

  listSlots(hostId: string) {
    return this.db.prisma.slot.findMany({
      where: { bench: { hostId } },
      orderBy: [{ benchId: 'asc' }, { portPath: 'asc' }],
    });
  }
}
