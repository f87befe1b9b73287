// Port and phone health (design §7): link speed, attach/detach counts, USB errors, filesystem
// throughput, hub port status, and a cable-health score with its reasons. Sampled every
// interval per port, published on the record stream (the server keeps a downsampled history)
// and shown on the slot.
import type { EventPublisher } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import type { DeviceWatcher } from '../ports/device-watcher';
import type { PortRegistry } from '../ports/port-registry';
import type { SlotBoard } from '../slots/slot-board';

interface PortHealth {
  usbErrors: number;
  /** Detaches while a restore ran (a phone leaving mid-restore is the cable's fault more often than not). */
  restoreDetaches: number;
  throughputMBps?: number;
}

export interface CableHealth {
  score: number;
  reasons: string[];
}

/** 100 is a healthy cable and port; each symptom costs points and says why. */
export function cableScore(input: {
  linkSpeedMbps?: number;
  usbErrors: number;
  restoreDetaches: number;
  throughputMBps?: number;
}): CableHealth {
  let score = 100;
  const reasons: string[] = [];
  if (input.linkSpeedMbps !== undefined && input.linkSpeedMbps < 480) {
    score -= 40;
    reasons.push(`links at ${input.linkSpeedMbps} Mbit/s (full speed): bad cable or port`);
  }
  if (input.usbErrors > 0) {
    score -= Math.min(40, input.usbErrors * 10);
    reasons.push(`${input.usbErrors} USB error(s) during restores`);
  }
  if (input.restoreDetaches > 0) {
    score -= Math.min(30, input.restoreDetaches * 5);
    reasons.push(`phone dropped off ${input.restoreDetaches} time(s) mid-restore`);
  }
  if (input.throughputMBps !== undefined && input.throughputMBps < 5) {
    score -= 20;
    reasons.push(`filesystem upload at ${input.throughputMBps.toFixed(1)} MB/s`);
  }
  return { score: Math.max(0, score), reasons };
}

export class HealthMonitor {
  private readonly ports = new Map<string, PortHealth>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly hostId: string,
    private readonly registry: PortRegistry,
    private readonly watcher: DeviceWatcher,
    private readonly board: SlotBoard,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  noteUsbError(portPath: string): void {
    this.port(portPath).usbErrors++;
  }

  noteRestoreDetach(portPath: string): void {
    this.port(portPath).restoreDetaches++;
  }

  noteThroughput(portPath: string, mbps: number): void {
    this.port(portPath).throughputMBps = mbps;
  }

  /** A technician replaced the cable: the port's history starts again. */
  resetPort(portPath: string): void {
    this.ports.delete(portPath);
  }

  health(portPath: string): CableHealth {
    const presence = this.watcher.presence(portPath);
    const port = this.port(portPath);
    return cableScore({ linkSpeedMbps: presence?.speedMbps, ...port });
  }

  async sample(): Promise<void> {
    for (const info of this.registry.all()) {
      const presence = this.watcher.presence(info.portPath);
      const port = this.port(info.portPath);
      const counts = this.watcher.counts(info.portPath);
      const health = cableScore({ linkSpeedMbps: presence?.speedMbps, ...port });
      this.board.update(info.portPath, { cableScore: health.score, linkSpeedMbps: presence?.speedMbps });
      if (!presence && counts.attach === 0) continue;
      await this.events
        .publish({
          kind: 'health.sample',
          hostId: this.hostId,
          portPath: info.portPath,
          at: Date.now(),
          ecid: presence?.ecid,
          linkSpeedMbps: presence?.speedMbps,
          throughputMBps: port.throughputMBps,
          attachCount: counts.attach,
          detachCount: counts.detach,
          usbErrorCount: port.usbErrors,
          cableScore: health.score,
          reasons: health.reasons,
        })
        .catch((error: unknown) =>
          this.logger.debug(`health sample not published: ${(error as Error).message}`),
        );
    }
  }

  private port(portPath: string): PortHealth {
    let port = this.ports.get(portPath);
    if (!port) {
      port = { usbErrors: 0, restoreDetaches: 0 };
      this.ports.set(portPath, port);
    }
    return port;
  }
}
