import type { SlotState } from '@bench/bench-domain';
import type { LiveSlot } from '@bench/jobs';
import { DonePhones, type DonePhoneTimers } from './done-phones';

/** A clock the test moves, with the timers due by then. */
class ManualTimers implements DonePhoneTimers {
  private time = 0;
  private readonly due = new Map<NodeJS.Timeout, { at: number; callback: () => void }>();
  private next = 0;
  now = () => this.time;
  setTimeout = (callback: () => void, ms: number) => {
    const timer = { id: this.next++ } as unknown as NodeJS.Timeout;
    this.due.set(timer, { at: this.time + ms, callback });
    return timer;
  };
  clearTimeout = (timer: NodeJS.Timeout) => void this.due.delete(timer);
  advance(ms: number): void {
    this.time += ms;
    for (const [timer, { at, callback }] of [...this.due]) {
      if (at > this.time) continue;
      this.due.delete(timer);
      callback();
    }
  }
}

/** The slots as SlotBoard keeps them (its state rules for empty: the run is cleared). */
class Board {
  readonly slots = new Map<string, LiveSlot>();
  get = (portPath: string) => this.slots.get(portPath);
  setState = (portPath: string, state: SlotState, changes: Partial<LiveSlot> = {}) => {
    const slot = this.slots.get(portPath) as LiveSlot;
    Object.assign(slot, changes, { state });
    if (state === 'empty') Object.assign(slot, { runId: undefined, toVersion: undefined });
  };
}

const PORT = '1-1.4';
const ECID = '0x1234';

function setup() {
  const board = new Board();
  board.slots.set(PORT, {
    hostId: 'pc',
    portPath: PORT,
    state: 'done',
    ecid: ECID,
    runId: 'run-1',
    detail: 'iOS 18.6.2 (22G100)',
    toVersion: '18.6.2',
    updatedAt: 0,
  });
  const present = new Set<string>();
  const timers = new ManualTimers();
  const phones = new DonePhones(board, (portPath) => present.has(portPath), timers, 3_000, 120_000);
  return { board, present, timers, phones, slot: () => board.get(PORT) as LiveSlot };
}

describe('DonePhones', () => {
  it('keeps a done slot done when its phone re-enumerates at once', () => {
    const { present, timers, phones, slot } = setup();
    phones.left(PORT);
    present.add(PORT);
    timers.advance(3_000);
    expect(slot()).toMatchObject({ state: 'done', runId: 'run-1' });
  });

  it('empties the slot of a phone taken away, and shows a new phone as new', () => {
    const { timers, phones, slot } = setup();
    phones.left(PORT);
    timers.advance(2_999);
    expect(slot().state).toBe('done');
    timers.advance(1);
    expect(slot()).toMatchObject({ state: 'empty', ecid: undefined, runId: undefined });
    expect(phones.returned(PORT, '0x9999', 'normal')).toBe(false);
    expect(slot().state).toBe('empty');
  });

  it('shows the done run again when the same phone is back late (slow identification, or put back)', () => {
    const { timers, phones, slot } = setup();
    phones.left(PORT);
    timers.advance(10_000);
    expect(slot().state).toBe('empty');
    expect(phones.returned(PORT, ECID, 'normal')).toBe(true);
    expect(slot()).toMatchObject({
      state: 'done',
      ecid: ECID,
      runId: 'run-1',
      detail: 'iOS 18.6.2 (22G100)',
      toVersion: '18.6.2',
      mode: 'normal',
    });
    // Remembered once: the next arrival is a new one.
    phones.left(PORT);
    timers.advance(3_000);
    expect(phones.returned(PORT, ECID, 'normal')).toBe(true);
    expect(phones.returned(PORT, ECID, 'normal')).toBe(false);
  });

  it('forgets the done phone after the return window', () => {
    const { timers, phones, slot } = setup();
    phones.left(PORT);
    timers.advance(3_000);
    timers.advance(120_001);
    expect(phones.returned(PORT, ECID, 'normal')).toBe(false);
    expect(slot().state).toBe('empty');
  });

  it('does nothing for a slot that is not done', () => {
    const { board, timers, phones, slot } = setup();
    board.setState(PORT, 'bricked');
    phones.left(PORT);
    timers.advance(5_000);
    expect(slot().state).toBe('bricked');
    expect(phones.returned(PORT, ECID, 'normal')).toBe(false);
  });
});
