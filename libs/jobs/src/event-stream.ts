// The record stream in Redis: agents append (XADD, capped), the server's recorder reads with a
// consumer group and acknowledges after writing to the database, so nothing is lost when the
// database or the server is down for a while, and nothing is written twice.
import type { Redis } from 'ioredis';
import { EVENT_STREAM, type BenchRecordEvent } from '@bench/events';

/** Keep about this many events in Redis (hours of a busy bench); the database keeps them all. */
const STREAM_CAP = 500_000;

export class EventPublisher {
  constructor(private readonly redis: Redis) {}

  async publish(event: BenchRecordEvent): Promise<string> {
    return (await this.redis.xadd(
      EVENT_STREAM,
      'MAXLEN',
      '~',
      String(STREAM_CAP),
      '*',
      'e',
      JSON.stringify(event),
    )) as string;
  }
}

export interface StreamEntry {
  id: string;
  /** Undefined for an entry that does not parse (it is acknowledged and skipped, with a log line). */
  event?: BenchRecordEvent;
}

export class EventConsumer {
  constructor(
    private readonly redis: Redis,
    readonly group: string,
    readonly consumer: string,
  ) {}

  /** Creates the group at the start of the stream (idempotent). */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', EVENT_STREAM, this.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }

  /**
   * Entries this consumer was given but did not acknowledge (a crash, a database outage) first,
   * then new ones, waiting up to `blockMs`.
   */
  async read(count: number, blockMs: number): Promise<StreamEntry[]> {
    const pending = await this.readFrom('0', count, undefined);
    if (pending.length > 0) return pending;
    return this.readFrom('>', count, blockMs);
  }

  /** Takes over entries another consumer left pending for longer than `idleMs` (a dead server). */
  async claimAbandoned(idleMs: number, count: number): Promise<StreamEntry[]> {
    const reply = (await this.redis.xautoclaim(
      EVENT_STREAM,
      this.group,
      this.consumer,
      idleMs,
      '0',
      'COUNT',
      count,
    )) as [string, [string, string[]][]];
    return parseEntries(reply[1] ?? []);
  }

  async ack(ids: string[]): Promise<void> {
    if (ids.length) await this.redis.xack(EVENT_STREAM, this.group, ...ids);
  }

  private async readFrom(from: string, count: number, blockMs: number | undefined): Promise<StreamEntry[]> {
    const args: (string | number)[] = ['GROUP', this.group, this.consumer, 'COUNT', count];
    if (blockMs !== undefined) args.push('BLOCK', blockMs);
    args.push('STREAMS', EVENT_STREAM, from);
    const reply = (await (this.redis.xreadgroup as (...a: (string | number)[]) => Promise<unknown>)(
      ...args,
    )) as [string, [string, string[]][]][] | null;
    if (!reply) return [];
    return parseEntries(reply[0]?.[1] ?? []);
  }
}

function parseEntries(raw: [string, string[] | null][]): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const [id, fields] of raw) {
    if (!fields) continue; // deleted (trimmed) entry still pending
    const index = fields.indexOf('e');
    if (index < 0) continue;
    try {
      entries.push({ id, event: JSON.parse(fields[index + 1]) as BenchRecordEvent });
    } catch {
      entries.push({ id });
    }
  }
  return entries;
}
