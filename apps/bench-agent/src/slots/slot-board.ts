// What each of this agent's slots shows: kept here, mirrored to Redis (the live hash servers
// and `bench status` read) and, on every state change, to the record stream. Progress updates
// are frequent: they reach the hash at most every 500 ms per slot (throttled at the source).
import type { SlotState } from '@bench/bench-domain';
import type { EventPublisher, LiveFeedPublisher, LiveSlot, LiveState } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import type { PortInfo } from '../ports/port-registry';

const PROGRESS_THROTTLE_MS = 500;

export class SlotBoard {
  private readonly slots = new Map<string, LiveSlot>();
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly hostId: string,
    private readonly live: LiveState,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
    /** Servers relay it to the dashboards (every hash write is also a feed entry). */
    private readonly feed?: LiveFeedPublisher,
  ) {}

  register(port: PortInfo): void {
    if (this.slots.has(port.portPath)) return;
    const slot: LiveSlot = {
      hostId: this.hostId,
      portPath: port.portPath,
      label: port.label,
      benchId: port.benchId,
      state: 'empty',
      updatedAt: Date.now(),
    };
    this.slots.set(port.portPath, slot);
    this.flush(port.portPath);
  }

  get(portPath: string): LiveSlot | undefined {
    return this.slots.get(portPath);
  }

  all(): LiveSlot[] {
    return [...this.slots.values()];
  }

  /** A state change: published at once (stream and hash). */
  setState(portPath: string, state: SlotState, changes: Partial<LiveSlot> = {}): void {
    const slot = this.slots.get(portPath);
    if (!slot) return;
    const changed = slot.state !== state || (changes.detail !== undefined && changes.detail !== slot.detail);
    Object.assign(slot, changes, { state, updatedAt: Date.now() });
    if (state === 'empty' || state === 'idle') this.clearRun(slot, changes);
    if (changed) {
      void this.events
        .publish({
          kind: 'slot.state',
          hostId: this.hostId,
          portPath,
          at: slot.updatedAt,
          state,
          ecid: slot.ecid,
          runId: slot.runId,
          detail: slot.detail,
          queuePosition: slot.queuePosition,
        })
        .catch((error: unknown) =>
          this.logger.warn(`could not publish slot state: ${(error as Error).message}`),
        );
    }
    this.flush(portPath);
  }

  /** Progress and other fields that change often: throttled into the hash. */
  update(portPath: string, changes: Partial<LiveSlot>): void {
    const slot = this.slots.get(portPath);
    if (!slot) return;
    Object.assign(slot, changes, { updatedAt: Date.now() });
    if (this.pending.has(portPath)) return;
    this.pending.set(
      portPath,
      setTimeout(() => {
        this.pending.delete(portPath);
        this.flush(portPath);
      }, PROGRESS_THROTTLE_MS),
    );
  }

  stop(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private clearRun(slot: LiveSlot, changes: Partial<LiveSlot>): void {
    for (const key of ['runId', 'stage', 'percent', 'etaSeconds', 'attempt', 'queuePosition'] as const) {
      if (!(key in changes)) delete slot[key];
    }
  }

  private flush(portPath: string): void {
    const slot = this.slots.get(portPath);
    if (!slot) return;
    const copy = { ...slot };
    void this.live
      .putSlot(copy)
      .catch((error: unknown) => this.logger.debug(`live slot write failed: ${(error as Error).message}`));
    void this.feed
      ?.publish(copy)
      .catch((error: unknown) => this.logger.debug(`live feed write failed: ${(error as Error).message}`));
  }
}
