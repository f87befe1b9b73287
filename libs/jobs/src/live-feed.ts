// The live feed: every change of a slot's live view (state, stage, progress, battery…), as the
// agent writes it to the live hash, also goes onto a short capped stream. Servers read it in one
// consumer group, so each entry is relayed by exactly one server, which broadcasts it to every
// server's browsers through the socket.io Redis adapter. No acknowledgements: a lost live update
// is replaced by the next one, and a reconnecting browser re-reads the whole floor.
import type { Redis } from 'ioredis';
import type { LiveSlot } from './live-state';

export const LIVE_STREAM = 'bench:live';
/** Minutes of updates for a large floor; the live hash has the current truth. */
const LIVE_CAP = 20_000;

export class LiveFeedPublisher {
  constructor(private readonly redis: Redis) {}

  async publish(slot: LiveSlot): Promise<void> {
    await this.redis.xadd(LIVE_STREAM, 'MAXLEN', '~', String(LIVE_CAP), '*', 's', JSON.stringify(slot));
  }
}

export class LiveFeedReader {
  constructor(
    private readonly redis: Redis,
    readonly group: string,
    readonly consumer: string,
  ) {}

  /** Joins at the end of the stream: a server starting now relays from now on. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', LIVE_STREAM, this.group, '$', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }

  /** The next updates (waiting up to `blockMs`); entries that do not parse are dropped. */
  async read(count: number, blockMs: number): Promise<LiveSlot[]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      this.group,
      this.consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'NOACK',
      'STREAMS',
      LIVE_STREAM,
      '>',
    )) as [string, [string, string[]][]][] | null;
    const slots: LiveSlot[] = [];
    for (const [, entries] of reply ?? []) {
      for (const [, fields] of entries) {
        const slot = parseLiveSlot(fields[1]);
        if (slot) slots.push(slot);
      }
    }
    return slots;
  }
}

export function parseLiveSlot(text: string | undefined): LiveSlot | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<LiveSlot>;
    if (typeof value.hostId !== 'string' || typeof value.portPath !== 'string') return undefined;
    if (typeof value.state !== 'string' || typeof value.updatedAt !== 'number') return undefined;
    return value as LiveSlot;
  } catch {
    return undefined;
  }
}
