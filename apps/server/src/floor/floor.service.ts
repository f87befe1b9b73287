// The floor as the API and the dashboard see it: the record's slots (labels, grid positions)
// merged with the agents' live state in Redis, plus a slot's history and the manager's numbers.
import { Inject, Injectable } from '@nestjs/common';
import { BENCH_CONFIG } from '@bench/app-runtime';
import type { BenchConfig } from '@bench/config';
import { SLOT_STATES, type FailureClass, type SlotState } from '@bench/bench-domain';
import type { FloorView, HostView, SlotDetailView, SlotView, SummaryView } from '@bench/events';
import { LiveState, type LiveSlot } from '@bench/jobs';
import { BenchDatabase, RunRepository, SummaryRepository } from '@bench/persistence';
import { SlotDirectory, type SlotRow } from '../live/slot-directory';
import { RunService } from '../records/run.service';
import { eventView, healthView, hostViews, runView, slotView } from './views';

const CABLE_WARNING_BELOW = 80;

@Injectable()
export class FloorService {
  private readonly runs: RunRepository;
  private readonly summaries: SummaryRepository;
  readonly live: LiveState;
  private readonly hostNames: Record<string, string>;

  constructor(
    database: BenchDatabase,
    runService: RunService,
    readonly directory: SlotDirectory,
    @Inject(BENCH_CONFIG) config: BenchConfig,
  ) {
    this.runs = new RunRepository(database);
    this.summaries = new SummaryRepository(database);
    this.live = runService.live;
    this.hostNames = Object.fromEntries(
      config.hosts.flatMap((host) => (host.name ? [[host.id, host.name] as const] : [])),
    );
  }

  /** Every host with its agent online or not: the one source of host presence for API and sockets. */
  async hosts(): Promise<HostView[]> {
    const [rows, beats] = await Promise.all([this.directory.floor.hosts(), this.live.hosts()]);
    return hostViews(rows, beats, Date.now(), this.hostNames);
  }

  async benches() {
    return (await this.directory.floor.benches()).map((b) => ({ id: b.id, hostId: b.hostId, name: b.name }));
  }

  async slots(): Promise<SlotView[]> {
    const rows = await this.directory.all();
    const live = await this.liveByPort([...new Set(rows.map((row) => row.hostId))]);
    return rows.map((row) => slotView(row, live.get(`${row.hostId}\u0000${row.portPath}`)));
  }

  async floor(): Promise<FloorView> {
    const [hosts, benches, slots] = await Promise.all([this.hosts(), this.benches(), this.slots()]);
    return { hosts, benches, slots };
  }

  async slot(row: SlotRow): Promise<SlotView> {
    return slotView(row, await this.live.slot(row.hostId, row.portPath));
  }

  async detail(row: SlotRow): Promise<SlotDetailView> {
    const [slot, run, events, health] = await Promise.all([
      this.slot(row),
      this.runs.latestForSlot(row.id),
      this.directory.floor.events(row.id, 200),
      this.directory.floor.health(row.id, 120),
    ]);
    return {
      slot,
      run: run ? runView(run) : null,
      events: events.map(eventView),
      health: health.map(healthView),
    };
  }

  async summary(hours: number): Promise<SummaryView> {
    const slots = await this.slots();
    const record = await this.summaries.summary(new Date(Date.now() - hours * 3_600_000));
    const countsByState: Partial<Record<SlotState, number>> = {};
    for (const state of SLOT_STATES) {
      const count = slots.filter((slot) => slot.state === state).length;
      if (count > 0) countsByState[state] = count;
    }
    const labelOf = (hostId: string, portPath: string) =>
      slots.find((s) => s.hostId === hostId && s.portPath === portPath)?.label ?? null;
    const warned = slots.filter(
      (slot) => slot.cableScore !== undefined && slot.cableScore < CABLE_WARNING_BELOW,
    );
    const cableWarnings = await Promise.all(
      warned.map(async (slot) => {
        const latest = (await this.directory.floor.health(slot.id, 1)).map(healthView)[0];
        return {
          hostId: slot.hostId,
          portPath: slot.portPath,
          label: slot.label,
          cableScore: slot.cableScore as number,
          reasons: latest?.reasons ?? [],
        };
      }),
    );
    return {
      countsByState,
      restoresPerHour: Math.round(record.restoresPerHour * 10) / 10,
      successRate: record.successRate,
      finishedRuns: record.finishedRuns,
      failuresByClass: record.failuresByClass as Partial<Record<FailureClass, number>>,
      failuresByPort: record.failuresByPort.map((port) => ({
        ...port,
        label: labelOf(port.hostId, port.portPath),
      })),
      cableWarnings,
    };
  }

  private async liveByPort(hostIds: string[]): Promise<Map<string, LiveSlot>> {
    const map = new Map<string, LiveSlot>();
    for (const slots of await Promise.all(hostIds.map((id) => this.live.slots(id))))
      for (const slot of slots) map.set(`${slot.hostId}\u0000${slot.portPath}`, slot);
    return map;
  }
}
