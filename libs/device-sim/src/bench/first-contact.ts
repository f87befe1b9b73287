// How quickly the host reacts to a phone: when the cable went in, and when the first request
// from the host reached the phone afterwards (a usbmux Connect to one of its ports, or a USB
// transfer on its DFU/recovery enumeration). `bench:agent` reads it through the control API to
// measure plug → first USB command. Times are wall-clock milliseconds with sub-millisecond
// precision, taken in the simulator's process, so both ends of a latency share one clock.
import type { SimPhone } from '../phone/sim-phone';

export interface FirstContact {
  ecid: string;
  port: string;
  /** When the phone was plugged into `port` (ms since the epoch). */
  pluggedAt: number;
  /** When the first host request reached it after that plug, if one has. */
  firstContactAt?: number;
  /** What that request was: `usbmux-connect:62078`, `usb:control IN`… */
  firstContact?: string;
}

export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export class FirstContactLog {
  private readonly latest = new Map<SimPhone, FirstContact>();

  constructor(private readonly now: () => number = wallClockMs) {}

  /** The cable went in: a new plug, whose first contact is still to come. */
  plugged(phone: SimPhone, port: string): void {
    this.latest.set(phone, { ecid: phone.identity.ecidHex, port, pluggedAt: this.now() });
  }

  /** A host request reached the phone; only the first one after each plug counts. */
  contact(phone: SimPhone, what: string): void {
    const entry = this.latest.get(phone);
    if (!entry || entry.firstContactAt !== undefined) return;
    entry.firstContactAt = this.now();
    entry.firstContact = what;
  }

  /** The latest plug of every phone, in the order the phones were first plugged. */
  entries(): FirstContact[] {
    return [...this.latest.values()].map((entry) => ({ ...entry }));
  }
}
