// Simulated time: a speed factor scales every simulated duration (1 = realistic, a full erase
// restore in 10–20 minutes; 60 = about a minute). Timers are real timers, so the simulator
// behaves like a device on the wire: nothing completes before its (scaled) time.

export class SimClock {
  constructor(readonly speed = 1) {
    if (!(speed > 0)) throw new RangeError(`speed factor must be positive, got ${speed}`);
  }

  /** Real milliseconds for a simulated duration. */
  scale(simulatedMs: number): number {
    return simulatedMs / this.speed;
  }

  now(): number {
    return Date.now();
  }

  /** Waits a simulated duration; rejects with the signal's reason when aborted. */
  sleep(simulatedMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(done, this.scale(simulatedMs));
      function done() {
        signal?.removeEventListener('abort', abort);
        resolve();
      }
      function abort() {
        clearTimeout(timer);
        reject(signal?.reason);
      }
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Schedules a callback after a simulated duration; returns a cancel function. */
  after(simulatedMs: number, callback: () => void): () => void {
    const timer = setTimeout(callback, this.scale(simulatedMs));
    return () => clearTimeout(timer);
  }
}
