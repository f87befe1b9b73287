// Admission control (design §7): at most K filesystem uploads at once per USB controller, so a
// controller's 480 Mbit/s is not split sixteen ways and every upload finishes in reasonable time.
// Phones beyond K wait in line (first come, first served) and are told their place.
import type { UploadAdmission } from '@bench/restore-engine';

interface Waiter {
  grant: () => void;
  onWait: (position: number) => void;
}

class ControllerLine {
  active = 0;
  readonly waiting: Waiter[] = [];
}

/** The controller of a port path: its bus number (`1-1.4.2` → 1). */
export function controllerOf(portPath: string | undefined): string {
  return portPath?.split('-')[0] ?? 'unknown';
}

export class UploadAdmissionControl implements UploadAdmission {
  private readonly lines = new Map<string, ControllerLine>();

  constructor(readonly perController: number) {}

  acquire(
    portPath: string | undefined,
    signal: AbortSignal,
    onWait: (position: number) => void,
  ): Promise<() => void> {
    const line = this.line(controllerOf(portPath));
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        line.active--;
        this.admitNext(line);
      };
      if (line.active < this.perController) {
        line.active++;
        return resolve(release);
      }
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', abort);
          line.active++;
          resolve(release);
        },
        onWait,
      };
      const abort = () => {
        const index = line.waiting.indexOf(waiter);
        if (index >= 0) line.waiting.splice(index, 1);
        this.announce(line);
        reject(signal.reason);
      };
      signal.addEventListener('abort', abort, { once: true });
      line.waiting.push(waiter);
      onWait(line.waiting.length);
    });
  }

  /** Uploads running and waiting, per controller (health and the status view). */
  snapshot(): Record<string, { active: number; waiting: number }> {
    return Object.fromEntries(
      [...this.lines].map(([bus, line]) => [bus, { active: line.active, waiting: line.waiting.length }]),
    );
  }

  private line(bus: string): ControllerLine {
    let line = this.lines.get(bus);
    if (!line) {
      line = new ControllerLine();
      this.lines.set(bus, line);
    }
    return line;
  }

  private admitNext(line: ControllerLine): void {
    while (line.active < this.perController && line.waiting.length > 0) line.waiting.shift()?.grant();
    this.announce(line);
  }

  private announce(line: ControllerLine): void {
    line.waiting.forEach((waiter, index) => waiter.onWait(index + 1));
  }
}
