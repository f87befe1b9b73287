// The floor as the dashboard holds it: a snapshot from GET /api/floor kept current by socket
// events. Pure functions, so ordering and merge rules are unit-tested without a browser.
import type { BenchView, FloorView, HostView, SlotProgress, SlotView } from '@bench/events';
import { mergeSnapshotHosts, slotNeedsMe, upsertHost } from './hosts';
import { NEEDS_ME_STATES, type SlotState } from './vocabulary';

export interface FloorState {
  loaded: boolean;
  hosts: HostView[];
  benches: BenchView[];
  slots: Record<string, SlotView>;
}

export type FloorAction =
  | { type: 'floor.loaded'; floor: FloorView }
  | { type: 'slot.updated'; slot: SlotView }
  | { type: 'slot.progress'; progress: SlotProgress }
  | { type: 'host.updated'; host: HostView }
  /** Socket events collected over one animation frame, applied in arrival order (one render). */
  | { type: 'batch'; actions: FloorAction[] };

export const EMPTY_FLOOR: FloorState = { loaded: false, hosts: [], benches: [], slots: {} };

export function floorReducer(state: FloorState, action: FloorAction): FloorState {
  switch (action.type) {
    case 'floor.loaded':
      return loadFloor(state, action.floor);
    case 'slot.updated':
      return mergeSlot(state, action.slot);
    case 'slot.progress':
      return applyProgress(state, action.progress);
    case 'host.updated': {
      const hosts = upsertHost(state.hosts, action.host);
      return hosts === state.hosts ? state : { ...state, hosts };
    }
    case 'batch':
      return action.actions.reduce(floorReducer, state);
  }
}

function isNewer(incoming: SlotView, known: SlotView | undefined): boolean {
  return !known || incoming.updatedAt >= known.updatedAt;
}

/**
 * A fresh snapshot (first load, or after a reconnect) replaces the floor: slots it no longer
 * lists are gone. A slot the socket updated while the request was in flight keeps the newer view.
 */
export function loadFloor(state: FloorState, floor: FloorView): FloorState {
  const slots: Record<string, SlotView> = {};
  for (const slot of floor.slots) {
    const known = state.slots[slot.id];
    slots[slot.id] = known && !isNewer(slot, known) ? known : slot;
  }
  return { loaded: true, hosts: mergeSnapshotHosts(state.hosts, floor.hosts), benches: floor.benches, slots };
}

/** A whole-slot update from the socket; an update older than what is shown is dropped. */
export function mergeSlot(state: FloorState, slot: SlotView): FloorState {
  if (!isNewer(slot, state.slots[slot.id])) return state;
  return { ...state, slots: { ...state.slots, [slot.id]: slot } };
}

/**
 * Progress touches only stage, percent and ETA of a slot already on the floor. Progress for an
 * unknown slot waits for its `slot.updated`; progress older than the slot's view is stale.
 */
export function applyProgress(state: FloorState, progress: SlotProgress): FloorState {
  const slot = state.slots[progress.slotId];
  if (!slot || progress.at < slot.updatedAt) return state;
  const next: SlotView = { ...slot, stage: progress.stage, percent: progress.percent };
  if (progress.etaSeconds === undefined) delete next.etaSeconds;
  else next.etaSeconds = progress.etaSeconds;
  return { ...state, slots: { ...state.slots, [slot.id]: next } };
}

export function countByState(slots: readonly SlotView[]): Partial<Record<SlotState, number>> {
  const counts: Partial<Record<SlotState, number>> = {};
  for (const slot of slots) counts[slot.state] = (counts[slot.state] ?? 0) + 1;
  return counts;
}

/** No host is offline (a floor whose hosts the caller does not pass). */
const NO_HOSTS: ReadonlySet<string> = new Set();

/** Slots that need a human; with the offline hosts, also their slots that had a run under way. */
export function countNeedsMe(slots: readonly SlotView[], offline: ReadonlySet<string> = NO_HOSTS): number {
  return slots.filter((slot) => slotNeedsMe(slot, offline)).length;
}

const byName = new Intl.Collator(undefined, { numeric: true });

/** Bench order: configured grid positions first (row, then column), then by label and port. */
export function compareFloorOrder(a: SlotView, b: SlotView): number {
  const aPlaced = a.gridRow !== null && a.gridCol !== null;
  const bPlaced = b.gridRow !== null && b.gridCol !== null;
  if (aPlaced !== bPlaced) return aPlaced ? -1 : 1;
  if (aPlaced && bPlaced) {
    const byPosition = (a.gridRow ?? 0) - (b.gridRow ?? 0) || (a.gridCol ?? 0) - (b.gridCol ?? 0);
    if (byPosition !== 0) return byPosition;
  }
  return (
    byName.compare(a.label ?? a.portPath, b.label ?? b.portPath) || byName.compare(a.portPath, b.portPath)
  );
}

/**
 * The "needs me" order: slots that need a human first, the most severe state first and within a
 * state the one waiting longest; then the slots of offline hosts that had a run under way (one
 * fix, the agent, serves them all); then every other slot in bench order.
 */
export function orderNeedsMeFirst(
  slots: readonly SlotView[],
  offline: ReadonlySet<string> = NO_HOSTS,
): SlotView[] {
  const rank = (slot: SlotView) => {
    const index = (NEEDS_ME_STATES as readonly SlotState[]).indexOf(slot.state);
    if (index !== -1) return index;
    return slotNeedsMe(slot, offline) ? NEEDS_ME_STATES.length : NEEDS_ME_STATES.length + 1;
  };
  return [...slots].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (slotNeedsMe(a, offline) ? a.updatedAt - b.updatedAt : 0) ||
      compareFloorOrder(a, b),
  );
}

export interface PlacedSlot {
  slot: SlotView;
  row: number;
  col: number;
}

export interface BenchLayout {
  /** Columns of the bench's grid: the widest configured column, or 0 when nothing is placed. */
  columns: number;
  placed: PlacedSlot[];
}

/**
 * Lays one bench out like the physical bench: a slot sits at its configured grid position;
 * slots without one flow, in bench order, into the rows after the configured ones. Two slots
 * configured onto the same cell would overlap, so the later one flows too.
 */
export function layoutBench(slots: readonly SlotView[]): BenchLayout {
  const ordered = [...slots].sort(compareFloorOrder);
  const columns = Math.max(0, ...ordered.map((slot) => slot.gridCol ?? 0));
  if (columns === 0)
    return { columns: 0, placed: ordered.map((slot, index) => ({ slot, row: 0, col: index })) };
  const taken = new Set<string>();
  const placed: PlacedSlot[] = [];
  const flowing: SlotView[] = [];
  for (const slot of ordered) {
    const cell = `${slot.gridRow}:${slot.gridCol}`;
    if (slot.gridRow !== null && slot.gridCol !== null && !taken.has(cell)) {
      taken.add(cell);
      placed.push({ slot, row: slot.gridRow, col: slot.gridCol });
    } else flowing.push(slot);
  }
  const firstFreeRow = Math.max(0, ...placed.map((p) => p.row)) + 1;
  flowing.forEach((slot, index) =>
    placed.push({ slot, row: firstFreeRow + Math.floor(index / columns), col: (index % columns) + 1 }),
  );
  return { columns, placed };
}

/** The narrowest a tile may get and still be read from across the room, in rem. */
export const MIN_TILE_REM = 11;

/**
 * Whether a bench's configured grid fits the floor's width with tiles still readable. When it
 * does not (a tablet, the summary open beside it), tiles flow in bench order instead.
 */
export function fitsBenchLayout(floorWidthPx: number, columns: number, remPx: number): boolean {
  if (columns <= 0 || floorWidthPx <= 0) return false;
  const gapPx = 0.7 * remPx;
  return (floorWidthPx - gapPx * (columns - 1)) / columns >= MIN_TILE_REM * remPx;
}

export interface BenchGroup {
  id: string;
  name: string;
  slots: SlotView[];
}

/** Slots grouped by bench, in the order the floor lists benches; a slot of an unknown bench gets its own group. */
export function groupByBench(benches: readonly BenchView[], slots: readonly SlotView[]): BenchGroup[] {
  const groups = new Map<string, BenchGroup>(
    benches.map((bench) => [bench.id, { id: bench.id, name: bench.name, slots: [] }]),
  );
  for (const slot of slots) {
    let group = groups.get(slot.benchId);
    if (!group) {
      group = { id: slot.benchId, name: slot.benchId, slots: [] };
      groups.set(slot.benchId, group);
    }
    group.slots.push(slot);
  }
  return [...groups.values()].filter((group) => group.slots.length > 0);
}

export interface HostGroup {
  id: string;
  name: string;
  /** The server's view of the host; undefined for a host the floor has no view of yet. */
  host: HostView | undefined;
  online: boolean;
  benches: BenchGroup[];
}

/**
 * The floor by host, then bench, in the order the floor lists hosts. A slot of a host the floor
 * does not list yet (an agent that joined a moment ago) gets a group of its own, not called
 * offline: nothing says so. Hosts without slots are left out.
 */
export function groupByHost(
  hosts: readonly HostView[],
  benches: readonly BenchView[],
  slots: readonly SlotView[],
): HostGroup[] {
  const slotsByHost = new Map<string, SlotView[]>(hosts.map((host) => [host.id, []]));
  for (const slot of slots) {
    const list = slotsByHost.get(slot.hostId);
    if (list) list.push(slot);
    else slotsByHost.set(slot.hostId, [slot]);
  }
  const groups: HostGroup[] = [];
  for (const [id, hostSlots] of slotsByHost) {
    if (hostSlots.length === 0) continue;
    const host = hosts.find((candidate) => candidate.id === id);
    groups.push({
      id,
      name: host?.name ?? id,
      host,
      online: host?.online ?? true,
      benches: groupByBench(
        benches.filter((bench) => bench.hostId === id),
        hostSlots,
      ),
    });
  }
  return groups;
}
