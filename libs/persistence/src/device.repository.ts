import type { Ecid } from '@bench/bench-domain';
import type { BenchDatabase } from './bench-database';

export interface DeviceIdentity {
  ecid: Ecid;
  udid?: string;
  serialNumber?: string;
  productType?: string;
  hardwareModel?: string;
  chipId?: number;
  boardId?: number;
}

/** Devices keyed by ECID; what we learn about a phone in any mode is merged in. */
export class DeviceRepository {
  constructor(private readonly db: BenchDatabase) {}

  async recordSeen(identity: DeviceIdentity, at = new Date()) {
    const { ecid, ...known } = identity;
    const update = Object.fromEntries(Object.entries(known).filter(([, v]) => v !== undefined));
    return this.db.prisma.device.upsert({
      where: { ecid },
      create: { ecid, ...update, firstSeenAt: at, lastSeenAt: at },
      update: { ...update, lastSeenAt: at },
    });
  }

  find(ecid: Ecid) {
    return this.db.prisma.device.findUnique({ where: { ecid } });
  }
}
