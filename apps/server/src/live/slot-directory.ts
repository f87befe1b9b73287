// Slots are addressed by (host, port path) on the agents' side and by their record id on the
// API's side. This maps one to the other, with labels and grid positions, cached briefly (the
// topology changes only when an agent starts or the config changes).
import { Injectable } from '@nestjs/common';
import { BenchDatabase, FloorRepository } from '@bench/persistence';

export interface SlotRow {
  id: string;
  hostId: string;
  benchId: string;
  portPath: string;
  label: string | null;
  gridRow: number | null;
  gridCol: number | null;
  state: string;
  deviceEcid: string | null;
  runId: string | null;
  detail: string | null;
  quarantineReason: string | null;
}

const FRESH_MS = 30_000;

@Injectable()
export class SlotDirectory {
  readonly floor: FloorRepository;
  private readonly byPort = new Map<string, { row: SlotRow; at: number }>();

  constructor(database: BenchDatabase) {
    this.floor = new FloorRepository(database);
  }

  /** The slot record of a port, or undefined when no agent has reported that port yet. */
  async at(hostId: string, portPath: string): Promise<SlotRow | undefined> {
    const key = `${hostId}\u0000${portPath}`;
    const cached = this.byPort.get(key);
    if (cached && Date.now() - cached.at < FRESH_MS) return cached.row;
    const found = await this.floor.slotAt(hostId, portPath);
    if (!found) return undefined;
    const row = toRow(found);
    this.byPort.set(key, { row, at: Date.now() });
    return row;
  }

  async byId(id: string): Promise<SlotRow | undefined> {
    const found = await this.floor.slot(id);
    return found ? toRow(found) : undefined;
  }

  async all(): Promise<SlotRow[]> {
    const rows = (await this.floor.slots()).map(toRow);
    // A configured bench wins over the host's "unassigned ports" bench for the same port.
    const best = new Map<string, SlotRow>();
    for (const row of rows) {
      const key = `${row.hostId}\u0000${row.portPath}`;
      const existing = best.get(key);
      if (!existing || existing.benchId.endsWith('-unassigned')) best.set(key, row);
    }
    const now = Date.now();
    for (const [key, row] of best) this.byPort.set(key, { row, at: now });
    return [...best.values()];
  }

  /** The topology changed (an agent started): forget what was cached. */
  invalidate(): void {
    this.byPort.clear();
  }
}

function toRow(found: {
  id: string;
  benchId: string;
  portPath: string;
  label: string | null;
  gridRow: number | null;
  gridCol: number | null;
  state: string;
  deviceEcid: string | null;
  runId: string | null;
  detail: string | null;
  quarantineReason: string | null;
  bench: { hostId: string };
}): SlotRow {
  return {
    id: found.id,
    hostId: found.bench.hostId,
    benchId: found.benchId,
    portPath: found.portPath,
    label: found.label,
    gridRow: found.gridRow,
    gridCol: found.gridCol,
    state: found.state,
    deviceEcid: found.deviceEcid,
    runId: found.runId,
    detail: found.detail,
    quarantineReason: found.quarantineReason,
  };
}
