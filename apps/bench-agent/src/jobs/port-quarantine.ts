// A port, not a phone, is suspect when transient USB failures repeat on it across different
// phones (design §6): quarantine it until a technician swaps the cable and clears it. Kept in
// Redis so a restart of the agent does not forget it.
import type { Redis } from 'ioredis';

export interface QuarantineRecord {
  reason: string;
  phones: string[];
  at: number;
}

export class PortQuarantine {
  private readonly quarantined = new Map<string, QuarantineRecord>();
  private readonly transient = new Map<string, Set<string>>();

  constructor(
    private readonly redis: Redis,
    private readonly hostId: string,
  ) {}

  private get key(): string {
    return `bench:quarantine:${this.hostId}`;
  }

  async load(): Promise<void> {
    const all = await this.redis.hgetall(this.key);
    for (const [port, text] of Object.entries(all))
      this.quarantined.set(port, JSON.parse(text) as QuarantineRecord);
    const keys = await this.redis.keys(`bench:transient:${this.hostId}:*`);
    for (const key of keys)
      this.transient.set(
        key.slice(`bench:transient:${this.hostId}:`.length),
        new Set(await this.redis.smembers(key)),
      );
  }

  isQuarantined(portPath: string): boolean {
    return this.quarantined.has(portPath);
  }

  record(portPath: string): QuarantineRecord | undefined {
    return this.quarantined.get(portPath);
  }

  /** Notes a transient failure of `ecid` on the port; quarantines it at `threshold` different phones. */
  recordTransient(portPath: string, ecid: string, threshold: number): QuarantineRecord | undefined {
    let phones = this.transient.get(portPath);
    if (!phones) {
      phones = new Set();
      this.transient.set(portPath, phones);
    }
    phones.add(ecid);
    void this.redis.sadd(`bench:transient:${this.hostId}:${portPath}`, ecid);
    if (phones.size < threshold || this.quarantined.has(portPath)) return undefined;
    const record: QuarantineRecord = {
      reason: `transient USB failures on ${phones.size} different phones: suspect the cable or port`,
      phones: [...phones],
      at: Date.now(),
    };
    this.quarantined.set(portPath, record);
    void this.redis.hset(this.key, portPath, JSON.stringify(record));
    return record;
  }

  /** A technician swapped the cable: the port starts afresh. */
  async clear(portPath: string): Promise<void> {
    this.quarantined.delete(portPath);
    this.transient.delete(portPath);
    await this.redis.hdel(this.key, portPath);
    await this.redis.del(`bench:transient:${this.hostId}:${portPath}`);
  }
}
