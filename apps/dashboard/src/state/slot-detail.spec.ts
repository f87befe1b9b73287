import type { AttemptView, EventView, RunView, SlotDetailView } from '@bench/events';
import {
  describeEvent,
  detailLagsBehind,
  deviceLogExcerpt,
  healthSeries,
  sparklineSegments,
  timeline,
} from './slot-detail';
import { slotView } from './slot-view.fixture';

function event(id: number, at: string, kind: string, payload: unknown): EventView {
  return { id, at, kind, runId: 'r1', payload };
}

function attempt(number: number, overrides: Partial<AttemptView> = {}): AttemptView {
  return {
    number,
    outcome: 'failed',
    failureClass: 'transient-usb',
    message: 'device left',
    lastStage: 'send-filesystem',
    startMode: 'recovery',
    evidence: null,
    startedAt: '2025-01-01T10:00:00Z',
    endedAt: '2025-01-01T10:05:00Z',
    ...overrides,
  };
}

function detail(overrides: Partial<SlotDetailView> = {}): SlotDetailView {
  return { slot: slotView({ id: 's1' }), run: null, events: [], health: [], ...overrides };
}

describe('describeEvent', () => {
  it('summarises a failed attempt with its class and marks it an error', () => {
    const entry = describeEvent(
      event(1, '2025-01-01T10:00:00Z', 'attempt.ended', {
        kind: 'attempt.ended',
        number: 2,
        outcome: 'failed',
        failureClass: 'device-hardware',
        message: 'status 1015',
      }),
    );
    expect(entry.summary).toBe('attempt 2 · failed · device-hardware · status 1015');
    expect(entry.severity).toBe('error');
  });

  it('reads the restore engine event inside a restore.* record', () => {
    const entry = describeEvent(
      event(2, '2025-01-01T10:00:00Z', 'restore.stage', {
        kind: 'restore.event',
        event: { type: 'stage', stage: 'verify', mode: 'restore' },
      }),
    );
    expect(entry.summary).toBe('verify · restore');
    expect(entry.severity).toBe('info');
  });

  it('does not call a cancelled run an error, and survives a payload of any shape', () => {
    expect(
      describeEvent(event(3, 'x', 'run.ended', { state: 'cancelled', failureClass: 'cancelled' })).severity,
    ).toBe('info');
    expect(describeEvent(event(4, 'x', 'something.new', null)).summary).toBe('');
    expect(describeEvent(event(5, 'x', 'slot.state', 'text')).summary).toBe('');
  });
});

describe('timeline', () => {
  it('lists newest first and leaves out progress ticks and health samples', () => {
    const entries = timeline([
      event(1, '2025-01-01T10:00:00Z', 'attempt.started', { number: 1 }),
      event(2, '2025-01-01T10:00:01Z', 'restore.progress', { event: { percent: 3 } }),
      event(3, '2025-01-01T10:00:02Z', 'restore.warning', { event: { message: 'slow USB' } }),
      event(4, '2025-01-01T10:00:02Z', 'health.sample', {}),
    ]);
    expect(entries.map((entry) => [entry.id, entry.severity])).toEqual([
      [3, 'warning'],
      [1, 'info'],
    ]);
  });
});

describe('deviceLogExcerpt', () => {
  const logEvents = [
    event(2, '2025-01-01T10:00:02Z', 'restore.device-log', { event: { type: 'device-log', text: 'second' } }),
    event(1, '2025-01-01T10:00:01Z', 'restore.device-log', { event: { type: 'device-log', text: 'first' } }),
  ];

  it('prefers the latest attempt evidence, keeping its last lines', () => {
    const run = {
      id: 'r1',
      attempts: [
        attempt(1, { evidence: { deviceLog: 'old' } }),
        attempt(2, { evidence: { deviceLog: 'a\nb\n\nc\nd' } }),
        attempt(3, { evidence: null }),
      ],
    } as SlotDetailView['run'];
    expect(deviceLogExcerpt(detail({ run, events: logEvents }), 3)).toBe('b\nc\nd');
  });

  it('falls back to the recorded device-log lines in order', () => {
    expect(deviceLogExcerpt(detail({ events: logEvents }))).toBe('first\nsecond');
    expect(deviceLogExcerpt(detail())).toBe('');
  });
});

describe('health sparkline', () => {
  it('orders samples oldest first and keeps gaps', () => {
    const sample = (at: string, cableScore: number | null) => ({
      at,
      batteryLevel: null,
      linkSpeedMbps: null,
      throughputMBps: null,
      usbErrorCount: null,
      cableScore,
      reasons: [],
    });
    expect(
      healthSeries(
        [
          sample('2025-01-01T10:02:00Z', 70),
          sample('2025-01-01T10:01:00Z', 90),
          sample('2025-01-01T10:03:00Z', null),
        ],
        'cableScore',
      ),
    ).toEqual([90, 70, null]);
  });

  it('maps 0..100 onto the height, inverted, and breaks the line at missing values', () => {
    expect(sparklineSegments([100, 50, null, 0, 200], 40, 10)).toEqual(['0,0 10,5', '30,10 40,0']);
    expect(sparklineSegments([40], 40, 10)).toEqual(['20,6']);
    expect(sparklineSegments([], 40, 10)).toEqual([]);
  });
});

describe('detailLagsBehind', () => {
  const run = (id: string, state: string): RunView => ({
    id,
    hostId: 'host-1',
    portPath: 'port-s1',
    slotId: 's1',
    deviceEcid: 'E1',
    firmwareSelector: 'latest',
    behavior: 'erase',
    state,
    lastStage: null,
    failureClass: null,
    failureMessage: null,
    fromVersion: null,
    toVersion: null,
    operator: null,
    batchId: null,
    createdAt: '2025-01-01T10:00:00Z',
    startedAt: null,
    finishedAt: null,
    attempts: [],
  });

  it('says so while the tile shows how the run ended and the records still have it going', () => {
    for (const state of ['done', 'stuck', 'bricked', 'attention'] as const) {
      const slot = slotView({ id: 's1', state, runId: 'r1' });
      expect(detailLagsBehind(slot, detail({ run: run('r1', 'running') }))).toBe(true);
      expect(detailLagsBehind(slot, detail({ run: run('r1', 'queued') }))).toBe(true);
      expect(detailLagsBehind(slot, detail({ run: run('r1', state === 'done' ? 'done' : 'failed') }))).toBe(
        false,
      );
    }
  });

  it('does not while the run is under way, for another run or another slot', () => {
    const restoring = slotView({ id: 's1', state: 'restoring', runId: 'r1' });
    expect(detailLagsBehind(restoring, detail({ run: run('r1', 'running') }))).toBe(false);
    // A next run waits in the queue (a paused port) while the tile still shows the last one.
    const done = slotView({ id: 's1', state: 'done', runId: 'r1' });
    expect(detailLagsBehind(done, detail({ run: run('r2', 'queued') }))).toBe(false);
    expect(detailLagsBehind(done, detail({ run: null }))).toBe(false);
    const other = detail({ slot: slotView({ id: 's2' }), run: run('r1', 'running') });
    expect(detailLagsBehind(done, other)).toBe(false);
  });
});
