// Seams between the simulated bench (topology, bandwidth, faults) and the personalities.

/**
 * Paces bytes through a phone's USB link: its port's negotiated speed and its controller's
 * shared 480 Mbit/s. Personalities await `transfer(n)` before delivering n bytes, so uploads
 * and the filesystem stream take as long as they would on a real bench (divided by the speed
 * factor). Rejects when the phone leaves the bus mid-transfer.
 */
export interface LinkThrottle {
  transfer(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Negotiated link speed in bits per second (480000000 high speed, 12000000 full speed). */
  readonly linkSpeedBps: number;
}

export const UNTHROTTLED: LinkThrottle = {
  transfer: () => Promise.resolve(),
  linkSpeedBps: 480_000_000,
};
