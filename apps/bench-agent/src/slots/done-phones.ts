// A phone that ended its run done stays `done` on its slot while it is there. The watcher may
// report the phone's last re-enumeration (its reboot into the new iOS) only after the run ended,
// and on a busy PC the phone's identification can take seconds: so a done phone that leaves
// empties its slot only if it is not back within `awayMs`, and if the same phone (by ECID) comes
// back to the emptied slot within `returnMs` (a late re-enumeration, or a technician who put it
// back) the slot shows its done run again rather than a new idle phone.
import type { LiveSlot } from '@bench/jobs';
import type { SlotBoard } from './slot-board';

/** A done phone away this long was taken off the port (a re-enumeration is usually back in a second). */
export const DONE_PHONE_AWAY_MS = 3_000;
/** The same phone back on its emptied slot within this long is still the done phone. */
export const DONE_PHONE_RETURN_MS = 2 * 60_000;

export interface DonePhoneTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(timer: NodeJS.Timeout): void;
}

const REAL_TIMERS: DonePhoneTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer),
};

/** What a done slot showed, kept to show it again. */
type DoneSnapshot = Pick<LiveSlot, 'ecid' | 'runId' | 'detail' | 'productType' | 'fromVersion' | 'toVersion'>;

export class DonePhones {
  private readonly leaving = new Map<string, NodeJS.Timeout>();
  private readonly gone = new Map<string, DoneSnapshot & { at: number }>();

  constructor(
    private readonly board: Pick<SlotBoard, 'get' | 'setState'>,
    /** Whether the watcher sees a device on the port now. */
    private readonly isPresent: (portPath: string) => boolean,
    private readonly timers: DonePhoneTimers = REAL_TIMERS,
    private readonly awayMs = DONE_PHONE_AWAY_MS,
    private readonly returnMs = DONE_PHONE_RETURN_MS,
  ) {}

  /** The phone on a `done` slot left: the slot empties unless it is back within `awayMs`. */
  left(portPath: string): void {
    const slot = this.board.get(portPath);
    if (slot?.state !== 'done') return;
    const snapshot: DoneSnapshot = {
      ecid: slot.ecid,
      runId: slot.runId,
      detail: slot.detail,
      productType: slot.productType,
      fromVersion: slot.fromVersion,
      toVersion: slot.toVersion,
    };
    const timer = this.timers.setTimeout(() => {
      this.leaving.delete(portPath);
      if (this.isPresent(portPath) || this.board.get(portPath)?.state !== 'done') return;
      this.board.setState(portPath, 'empty', { ecid: undefined, mode: undefined, detail: undefined });
      this.gone.set(portPath, { ...snapshot, at: this.timers.now() });
    }, this.awayMs);
    const pending = this.leaving.get(portPath);
    if (pending) this.timers.clearTimeout(pending);
    this.leaving.set(portPath, timer);
  }

  /**
   * A phone was seen on an empty slot: when it is the done phone back in time, the slot shows its
   * run done again and this returns true; otherwise false (a new phone: the caller shows it idle).
   */
  returned(portPath: string, ecid: string, mode: LiveSlot['mode']): boolean {
    const gone = this.gone.get(portPath);
    this.gone.delete(portPath);
    if (!gone || gone.ecid !== ecid || this.timers.now() - gone.at > this.returnMs) return false;
    if (this.board.get(portPath)?.state !== 'empty') return false;
    const { at: _at, ...shown } = gone;
    this.board.setState(portPath, 'done', { ...shown, mode });
    return true;
  }

  stop(): void {
    for (const timer of this.leaving.values()) this.timers.clearTimeout(timer);
    this.leaving.clear();
  }
}
