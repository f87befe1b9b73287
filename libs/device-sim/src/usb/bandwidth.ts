// The USB bandwidth model: a host controller's bus (USB 2.0: 480 Mbit/s) is shared by every port
// under it, and no link goes faster than it negotiated (full speed: 12 Mbit/s). Each port is a
// flow; a transfer gets the max-min fair share among the flows active right now, capped by its
// link, and completes after bytes / rate of simulated time (divided by the clock's speed factor).
//
// Why deadlines instead of one timer per transfer: timers fire late by a millisecond or more,
// which at a speed factor of 100 is 100 ms of simulated time per transfer. A flow that comes back
// within `continuityMs` (real) of its previous deadline continues from that deadline, so timer
// lateness never accumulates; a flow that stays away longer was really idle. Deadlines use the
// monotonic high-resolution clock (performance.now), not the millisecond wall clock.
import type { SimClock } from '../time/sim-clock';

export const USB2_CONTROLLER_BPS = 480_000_000;

interface Flow {
  /** Real-time ms at which the flow's last transfer completes. */
  dueAt: number;
  capBps: number;
  bytes: number;
  /** Simulated ms the flow's transfers took at the rates they were given. */
  simulatedMs: number;
}

export interface FlowStats {
  bytes: number;
  /** Simulated time spent transferring: bytes / busy time is the throughput the port got. */
  busySimulatedMs: number;
}

export interface ControllerStats {
  busNumber: number;
  capacityBps: number;
  /** Flows transferring now (or within the continuity window). */
  activeFlows: number;
  bytes: number;
}

/** Max-min fair shares of `capacity` among flows with the given caps (water-filling). */
export function fairShares(capacity: number, caps: readonly number[]): number[] {
  const order = caps.map((cap, i) => ({ cap, i })).sort((a, b) => a.cap - b.cap);
  const shares = new Array<number>(caps.length).fill(0);
  let remaining = capacity;
  let left = caps.length;
  for (const { cap, i } of order) {
    const share = Math.min(cap, remaining / left);
    shares[i] = share;
    remaining -= share;
    left--;
  }
  return shares;
}

export class ControllerBandwidth {
  private readonly flows = new Map<string, Flow>();
  private totalBytes = 0;

  constructor(
    readonly busNumber: number,
    private readonly clock: SimClock,
    readonly capacityBps = USB2_CONTROLLER_BPS,
    /** Real ms within which a returning flow continues from its previous deadline. */
    private readonly continuityMs = 10,
  ) {}

  /** Waits as long as moving `bytes` on flow `key` (link cap `capBps`) takes now. */
  transfer(key: string, bytes: number, capBps: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (bytes <= 0) return Promise.resolve();
    const now = performance.now();
    const flow = this.flows.get(key) ?? { dueAt: -Infinity, capBps, bytes: 0, simulatedMs: 0 };
    flow.capBps = capBps;
    this.flows.set(key, flow);
    const start = flow.dueAt >= now - this.continuityMs ? flow.dueAt : now;
    // Mark this flow active before sharing, so it counts itself.
    flow.dueAt = Math.max(flow.dueAt, now);
    const rate = this.rateFor(key, now);
    const simulatedMs = ((bytes * 8) / rate) * 1000;
    flow.dueAt = start + this.clock.scale(simulatedMs);
    flow.bytes += bytes;
    flow.simulatedMs += simulatedMs;
    this.totalBytes += bytes;
    return this.until(flow.dueAt - now, signal);
  }

  flowStats(key: string): FlowStats {
    const flow = this.flows.get(key);
    return { bytes: flow?.bytes ?? 0, busySimulatedMs: flow?.simulatedMs ?? 0 };
  }

  stats(): ControllerStats {
    const now = performance.now();
    return {
      busNumber: this.busNumber,
      capacityBps: this.capacityBps,
      activeFlows: [...this.flows.values()].filter((f) => this.isActive(f, now)).length,
      bytes: this.totalBytes,
    };
  }

  private isActive(flow: Flow, now: number): boolean {
    return flow.dueAt >= now - this.continuityMs;
  }

  private rateFor(key: string, now: number): number {
    const keys: string[] = [];
    const caps: number[] = [];
    for (const [k, f] of this.flows) {
      if (!this.isActive(f, now)) continue;
      keys.push(k);
      caps.push(f.capBps);
    }
    return fairShares(this.capacityBps, caps)[keys.indexOf(key)];
  }

  private until(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      // Deadlines already passed still yield, so a tight upload loop never starves the event loop.
      const timer = delayMs > 0 ? setTimeout(done, delayMs) : undefined;
      const immediate = delayMs > 0 ? undefined : setImmediate(done);
      function done() {
        signal?.removeEventListener('abort', abort);
        resolve();
      }
      function abort() {
        clearTimeout(timer);
        clearImmediate(immediate);
        reject(signal?.reason);
      }
      signal?.addEventListener('abort', abort, { once: true });
    });
  }
}
