// Ports an operator paused: no run starts on them until resumed. Kept in Redis so a restarted
// agent keeps them paused, and in memory for the processor's check before each run.
import type { Redis } from 'ioredis';

export class PausedPorts {
  private readonly paused = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly hostId: string,
  ) {}

  private get key(): string {
    return `bench:paused:${this.hostId}`;
  }

  async load(): Promise<string[]> {
    for (const portPath of await this.redis.smembers(this.key)) this.paused.add(portPath);
    return [...this.paused];
  }

  has(portPath: string): boolean {
    return this.paused.has(portPath);
  }

  async pause(portPath: string): Promise<void> {
    this.paused.add(portPath);
    await this.redis.sadd(this.key, portPath);
  }

  async resume(portPath: string): Promise<void> {
    this.paused.delete(portPath);
    await this.redis.srem(this.key, portPath);
  }
}
