import type { FloorView, SlotProgress } from '@bench/events';
import {
  applyProgress,
  fitsBenchLayout,
  countByState,
  EMPTY_FLOOR,
  floorReducer,
  countNeedsMe,
  groupByBench,
  groupByHost,
  layoutBench,
  loadFloor,
  mergeSlot,
  orderNeedsMeFirst,
  type FloorState,
} from './floor';
import { slotView } from './slot-view.fixture';

function floorWith(...slots: ReturnType<typeof slotView>[]): FloorState {
  return loadFloor(EMPTY_FLOOR, { hosts: [], benches: [], slots });
}

function progress(overrides: Partial<SlotProgress> & { slotId: string }): SlotProgress {
  return { stage: 'send-filesystem', percent: 42, at: 2000, ...overrides };
}

describe('mergeSlot', () => {
  it('replaces a slot with a newer view and keeps a newer view against a stale one', () => {
    const floor = floorWith(slotView({ id: 'a', state: 'restoring', updatedAt: 2000 }));
    const newer = mergeSlot(floor, slotView({ id: 'a', state: 'done', updatedAt: 3000 }));
    expect(newer.slots.a.state).toBe('done');
    const stale = mergeSlot(newer, slotView({ id: 'a', state: 'restoring', updatedAt: 2500 }));
    expect(stale.slots.a.state).toBe('done');
    expect(stale).toBe(newer);
  });

  it('adds a slot the floor did not know', () => {
    const floor = mergeSlot(EMPTY_FLOOR, slotView({ id: 'new', state: 'queued' }));
    expect(Object.keys(floor.slots)).toEqual(['new']);
  });
});

describe('applyProgress', () => {
  const restoring = slotView({
    id: 'a',
    state: 'restoring',
    stage: 'verify',
    percent: 10,
    etaSeconds: 300,
    updatedAt: 1000,
  });

  it('updates only stage, percent and ETA of that slot', () => {
    const floor = floorWith(restoring, slotView({ id: 'b', state: 'restoring', percent: 5 }));
    const next = applyProgress(floor, progress({ slotId: 'a', percent: 55, etaSeconds: 120 }));
    expect(next.slots.a).toEqual({ ...restoring, stage: 'send-filesystem', percent: 55, etaSeconds: 120 });
    expect(next.slots.b).toBe(floor.slots.b);
  });

  it('drops an ETA the progress no longer carries', () => {
    const next = applyProgress(floorWith(restoring), progress({ slotId: 'a' }));
    expect(next.slots.a).not.toHaveProperty('etaSeconds');
  });

  it('ignores progress for a slot the floor does not know', () => {
    const floor = floorWith(restoring);
    expect(applyProgress(floor, progress({ slotId: 'ghost' }))).toBe(floor);
  });

  it('ignores progress older than the slot view (a late tick after the run ended)', () => {
    const done = slotView({ id: 'a', state: 'done', percent: 100, updatedAt: 5000 });
    const floor = floorWith(done);
    expect(applyProgress(floor, progress({ slotId: 'a', percent: 97, at: 4900 }))).toBe(floor);
  });
});

describe('loadFloor', () => {
  it('replaces the floor but keeps a slot the socket updated after the snapshot was taken', () => {
    const live = mergeSlot(
      floorWith(slotView({ id: 'a', updatedAt: 1000 }), slotView({ id: 'gone' })),
      slotView({ id: 'a', state: 'stuck', updatedAt: 9000 }),
    );
    const snapshot: FloorView = {
      hosts: [{ id: 'host-1', name: 'h1', online: true, lastSeenAt: null }],
      benches: [{ id: 'bench-1', hostId: 'host-1', name: 'Bench 1' }],
      slots: [
        slotView({ id: 'a', state: 'restoring', updatedAt: 8000 }),
        slotView({ id: 'b', updatedAt: 8000 }),
      ],
    };
    const next = floorReducer(live, { type: 'floor.loaded', floor: snapshot });
    expect(next.loaded).toBe(true);
    expect(next.slots.a.state).toBe('stuck');
    expect(Object.keys(next.slots).sort()).toEqual(['a', 'b']);
    expect(next.benches).toEqual(snapshot.benches);
  });
});

describe('floorReducer batch', () => {
  it('applies the batched events in arrival order, as if dispatched one by one', () => {
    const floor = floorWith(
      slotView({ id: 'a', state: 'restoring', updatedAt: 1000 }),
      slotView({ id: 'b' }),
    );
    const actions = [
      { type: 'slot.updated', slot: slotView({ id: 'a', state: 'restoring', percent: 10, updatedAt: 2000 }) },
      { type: 'slot.progress', progress: progress({ slotId: 'a', percent: 20, at: 2500 }) },
      { type: 'slot.updated', slot: slotView({ id: 'a', state: 'restoring', percent: 5, updatedAt: 1500 }) },
      { type: 'slot.updated', slot: slotView({ id: 'c', state: 'queued', updatedAt: 3000 }) },
    ] as const;
    const batched = floorReducer(floor, { type: 'batch', actions: [...actions] });
    expect(batched).toEqual(actions.reduce(floorReducer, floor));
    expect(batched.slots.a.percent).toBe(20);
    expect(batched.slots.c.state).toBe('queued');
    // A slot no event touched keeps its object (its tile is not re-rendered).
    expect(batched.slots.b).toBe(floor.slots.b);
  });

  it('returns the same state for an empty batch', () => {
    const floor = floorWith(slotView({ id: 'a' }));
    expect(floorReducer(floor, { type: 'batch', actions: [] })).toBe(floor);
  });
});

describe('floorReducer host.updated', () => {
  it('updates the host it names', () => {
    const floor = loadFloor(EMPTY_FLOOR, {
      hosts: [
        { id: 'h1', name: 'one', online: true, lastSeenAt: null },
        { id: 'h2', name: 'two', online: true, lastSeenAt: null },
      ],
      benches: [],
      slots: [],
    });
    const next = floorReducer(floor, {
      type: 'host.updated',
      host: { id: 'h2', name: 'two', online: false, lastSeenAt: 'x' },
    });
    expect(next.hosts).toEqual([
      { id: 'h1', name: 'one', online: true, lastSeenAt: null },
      { id: 'h2', name: 'two', online: false, lastSeenAt: 'x' },
    ]);
  });

  it('adds a host the floor did not list (a new bench PC)', () => {
    const floor = loadFloor(EMPTY_FLOOR, {
      hosts: [{ id: 'h1', name: 'one', online: true, lastSeenAt: null }],
      benches: [],
      slots: [],
    });
    const next = floorReducer(floor, {
      type: 'host.updated',
      host: { id: 'h2', name: 'two', online: true, lastSeenAt: 'x', checkedAt: 5 },
    });
    expect(next.hosts.map((host) => host.id)).toEqual(['h1', 'h2']);
  });

  it('drops a host view older than the one shown, and keeps the state object when nothing changed', () => {
    const floor = floorReducer(EMPTY_FLOOR, {
      type: 'host.updated',
      host: { id: 'h1', name: 'one', online: false, lastSeenAt: 'x', checkedAt: 2000 },
    });
    const stale = floorReducer(floor, {
      type: 'host.updated',
      host: { id: 'h1', name: 'one', online: true, lastSeenAt: 'x', checkedAt: 1000 },
    });
    expect(stale).toBe(floor);
    expect(stale.hosts[0].online).toBe(false);
  });
});

describe('loadFloor hosts', () => {
  it('keeps a host view the socket delivered after the snapshot was computed', () => {
    const wentOffline = floorReducer(EMPTY_FLOOR, {
      type: 'host.updated',
      host: { id: 'h1', name: 'one', online: false, lastSeenAt: 'x', checkedAt: 9000 },
    });
    const loaded = loadFloor(wentOffline, {
      hosts: [
        { id: 'h1', name: 'one', online: true, lastSeenAt: 'x', checkedAt: 8000 },
        { id: 'h2', name: 'two', online: true, lastSeenAt: 'y', checkedAt: 8000 },
      ],
      benches: [],
      slots: [],
    });
    expect(loaded.hosts.map((host) => [host.id, host.online])).toEqual([
      ['h1', false],
      ['h2', true],
    ]);
    const fresher = loadFloor(loaded, {
      hosts: [{ id: 'h1', name: 'one', online: true, lastSeenAt: 'z', checkedAt: 9500 }],
      benches: [],
      slots: [],
    });
    expect(fresher.hosts).toEqual([
      { id: 'h1', name: 'one', online: true, lastSeenAt: 'z', checkedAt: 9500 },
    ]);
  });
});

describe('orderNeedsMeFirst', () => {
  it('puts bricked, stuck, attention, quarantined first, the longest-waiting first within a state, then bench order', () => {
    const slots = [
      slotView({ id: 'done', label: 'A1', state: 'done', gridRow: 1, gridCol: 1 }),
      slotView({ id: 'att-late', label: 'A2', state: 'attention', updatedAt: 5000 }),
      slotView({ id: 'quar', label: 'A3', state: 'quarantined', updatedAt: 100 }),
      slotView({ id: 'att-early', label: 'A4', state: 'attention', updatedAt: 2000 }),
      slotView({ id: 'restoring', label: 'A5', state: 'restoring', gridRow: 1, gridCol: 2 }),
      slotView({ id: 'bricked', label: 'A6', state: 'bricked', updatedAt: 9000 }),
      slotView({ id: 'stuck', label: 'A7', state: 'stuck' }),
      slotView({ id: 'idle', label: 'A0', state: 'idle' }),
    ];
    expect(orderNeedsMeFirst(slots).map((slot) => slot.id)).toEqual([
      'bricked',
      'stuck',
      'att-early',
      'att-late',
      'quar',
      'done',
      'restoring',
      'idle',
    ]);
  });

  it("lists an offline host's slots that had a run under way after the needs-me states, before the calm ones", () => {
    const slots = [
      slotView({ id: 'a-idle', hostId: 'a', label: 'A1', state: 'idle', gridRow: 1, gridCol: 1 }),
      slotView({ id: 'b-restoring', hostId: 'b', label: 'B2', state: 'restoring', updatedAt: 3000 }),
      slotView({ id: 'b-done', hostId: 'b', label: 'B3', state: 'done' }),
      slotView({ id: 'a-restoring', hostId: 'a', label: 'A2', state: 'restoring' }),
      slotView({ id: 'b-queued', hostId: 'b', label: 'B1', state: 'queued', updatedAt: 1000 }),
      slotView({ id: 'a-stuck', hostId: 'a', label: 'A3', state: 'stuck' }),
    ];
    const offline = new Set(['b']);
    expect(orderNeedsMeFirst(slots, offline).map((slot) => slot.id)).toEqual([
      'a-stuck',
      'b-queued',
      'b-restoring',
      'a-idle',
      'a-restoring',
      'b-done',
    ]);
    expect(countNeedsMe(slots, offline)).toBe(3);
    expect(countNeedsMe(slots)).toBe(1);
  });
});

describe('layoutBench', () => {
  it('places slots at their grid positions and flows unplaced ones into the rows after', () => {
    const layout = layoutBench([
      slotView({ id: 'x', label: 'X' }),
      slotView({ id: 'b2', label: 'B2', gridRow: 2, gridCol: 2 }),
      slotView({ id: 'a1', label: 'A1', gridRow: 1, gridCol: 1 }),
      slotView({ id: 'a3', label: 'A3', gridRow: 1, gridCol: 3 }),
      slotView({ id: 'clash', label: 'C', gridRow: 1, gridCol: 1 }),
      slotView({ id: 'y', label: 'Y' }),
      slotView({ id: 'z', label: 'Z' }),
      slotView({ id: 'w', label: 'W' }),
    ]);
    expect(layout.columns).toBe(3);
    expect(layout.placed.map(({ slot, row, col }) => [slot.id, row, col])).toEqual([
      ['a1', 1, 1],
      ['a3', 1, 3],
      ['b2', 2, 2],
      ['clash', 3, 1],
      ['w', 3, 2],
      ['x', 3, 3],
      ['y', 4, 1],
      ['z', 4, 2],
    ]);
  });

  it('leaves a bench without any positions to flow, in label order (S2 before S10)', () => {
    const layout = layoutBench([slotView({ id: '10', label: 'S10' }), slotView({ id: '2', label: 'S2' })]);
    expect(layout.columns).toBe(0);
    expect(layout.placed.map((p) => p.slot.label)).toEqual(['S2', 'S10']);
  });
});

describe('countByState and groupByBench', () => {
  it('counts slots per state', () => {
    const slots = [
      slotView({ id: 'a', state: 'done' }),
      slotView({ id: 'b', state: 'done' }),
      slotView({ id: 'c', state: 'stuck' }),
    ];
    expect(countByState(slots)).toEqual({ done: 2, stuck: 1 });
  });

  it('groups by bench in the floor order, skipping empty benches and keeping slots of unknown benches', () => {
    const groups = groupByBench(
      [
        { id: 'b2', hostId: 'h', name: 'Second' },
        { id: 'b1', hostId: 'h', name: 'First' },
        { id: 'b3', hostId: 'h', name: 'Empty' },
      ],
      [
        slotView({ id: 'a', benchId: 'b1' }),
        slotView({ id: 'b', benchId: 'b2' }),
        slotView({ id: 'c', benchId: 'b9' }),
      ],
    );
    expect(groups.map((g) => [g.name, g.slots.map((s) => s.id)])).toEqual([
      ['Second', ['b']],
      ['First', ['a']],
      ['b9', ['c']],
    ]);
  });
});

describe('groupByHost', () => {
  const hosts = [
    { id: 'pc1', name: 'Bench PC 1', online: true, lastSeenAt: null },
    { id: 'pc2', name: 'Bench PC 2', online: false, lastSeenAt: '2026-01-01T00:00:00.000Z' },
    { id: 'pc3', name: 'Idle PC', online: true, lastSeenAt: null },
  ];
  const benches = [
    { id: 'pc1-sim', hostId: 'pc1', name: 'Simulated bench' },
    { id: 'pc2-left', hostId: 'pc2', name: 'Left shelf' },
    { id: 'pc2-right', hostId: 'pc2', name: 'Right shelf' },
  ];

  it('groups slots by host in the floor order, then by bench; hosts without slots are left out', () => {
    const groups = groupByHost(hosts, benches, [
      slotView({ id: 'r1', hostId: 'pc2', benchId: 'pc2-right' }),
      slotView({ id: 's1', hostId: 'pc1', benchId: 'pc1-sim' }),
      slotView({ id: 'l1', hostId: 'pc2', benchId: 'pc2-left' }),
      slotView({ id: 's2', hostId: 'pc1', benchId: 'pc1-sim' }),
    ]);
    expect(
      groups.map((g) => [g.name, g.online, g.benches.map((b) => [b.name, b.slots.map((s) => s.id)])]),
    ).toEqual([
      ['Bench PC 1', true, [['Simulated bench', ['s1', 's2']]]],
      [
        'Bench PC 2',
        false,
        [
          ['Left shelf', ['l1']],
          ['Right shelf', ['r1']],
        ],
      ],
    ]);
    expect(groups[1].host?.lastSeenAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('gives a slot of a host the floor does not list a group of its own, shown online', () => {
    const groups = groupByHost(hosts, benches, [
      slotView({ id: 's1', hostId: 'pc1', benchId: 'pc1-sim' }),
      slotView({ id: 'n1', hostId: 'new-pc', benchId: 'new-pc-sim' }),
    ]);
    expect(groups.map((g) => [g.id, g.name, g.online, g.host])).toEqual([
      ['pc1', 'Bench PC 1', true, hosts[0]],
      ['new-pc', 'new-pc', true, undefined],
    ]);
    expect(groups[1].benches.map((b) => b.name)).toEqual(['new-pc-sim']);
  });
});

describe('fitsBenchLayout', () => {
  it('keeps the bench layout only while every column stays at least MIN_TILE_REM wide', () => {
    // 8 columns at 19 px/rem: 8 × 209 px + 7 gaps of 13.3 px ≈ 1765 px.
    expect(fitsBenchLayout(1880, 8, 19)).toBe(true);
    expect(fitsBenchLayout(1450, 8, 19)).toBe(false);
    expect(fitsBenchLayout(1000, 4, 17)).toBe(true);
    expect(fitsBenchLayout(1880, 0, 19)).toBe(false);
    expect(fitsBenchLayout(0, 8, 19)).toBe(false);
  });
});
