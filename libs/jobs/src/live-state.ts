// Live state in Redis: what each slot shows now (written by the agent that owns the port, read by
// servers and `bench status`), and the run specs agents execute (written by the server with the
// run's database row, so agents never need the database).
import type { Redis } from 'ioredis';
import type { RestoreBehavior, SlotState } from '@bench/bench-domain';

export interface LiveSlot {
  hostId: string;
  portPath: string;
  label?: string;
  benchId?: string;
  state: SlotState;
  ecid?: string;
  runId?: string;
  mode?: string;
  stage?: string;
  percent?: number;
  etaSeconds?: number;
  attempt?: number;
  maxAttempts?: number;
  detail?: string;
  queuePosition?: number;
  productType?: string;
  fromVersion?: string;
  toVersion?: string;
  batteryLevel?: number;
  cableScore?: number;
  linkSpeedMbps?: number;
  /** An operator paused the slot: it takes no new run until resumed. */
  paused?: boolean;
  updatedAt: number;
}

export interface RunSpec {
  id: string;
  hostId: string;
  portPath: string;
  /** The phone this run is for; a different ECID on the port aborts it ("wrong device"). */
  ecid?: string;
  firmwareSelector: string;
  behavior: RestoreBehavior;
  policy: string;
  createdAt: number;
}

const slotsKey = (hostId: string) => `bench:slots:${hostId}`;
const runKey = (id: string) => `bench:run:${id}`;
export const HOSTS_KEY = 'bench:hosts';

/**
 * A host is online while its agent's last heartbeat is this recent (why 20 s: see
 * apps/server/src/floor/views.ts). One window for the server, the dashboard and `bench status`.
 */
export const HOST_ONLINE_MS = 20_000;

export class LiveState {
  constructor(private readonly redis: Redis) {}

  async putSlot(slot: LiveSlot): Promise<void> {
    await this.redis.hset(slotsKey(slot.hostId), slot.portPath, JSON.stringify(slot));
  }

  async slots(hostId: string): Promise<LiveSlot[]> {
    const all = await this.redis.hgetall(slotsKey(hostId));
    return Object.values(all)
      .map((text) => JSON.parse(text) as LiveSlot)
      .sort((a, b) => a.portPath.localeCompare(b.portPath, undefined, { numeric: true }));
  }

  async slot(hostId: string, portPath: string): Promise<LiveSlot | undefined> {
    const text = await this.redis.hget(slotsKey(hostId), portPath);
    return text ? (JSON.parse(text) as LiveSlot) : undefined;
  }

  async hosts(): Promise<Record<string, number>> {
    const all = await this.redis.hgetall(HOSTS_KEY);
    return Object.fromEntries(Object.entries(all).map(([host, at]) => [host, Number(at)]));
  }

  async heartbeat(hostId: string, at: number): Promise<void> {
    await this.redis.hset(HOSTS_KEY, hostId, String(at));
  }

  async putRun(spec: RunSpec): Promise<void> {
    await this.redis.set(runKey(spec.id), JSON.stringify(spec));
  }

  async run(id: string): Promise<RunSpec | undefined> {
    const text = await this.redis.get(runKey(id));
    return text ? (JSON.parse(text) as RunSpec) : undefined;
  }

  /** Per-run counters the retry policy keeps (attempts per failure class, holds). */
  async bump(runId: string, counter: string): Promise<number> {
    return this.redis.hincrby(`${runKey(runId)}:counters`, counter, 1);
  }

  async counters(runId: string): Promise<Record<string, number>> {
    const all = await this.redis.hgetall(`${runKey(runId)}:counters`);
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, Number(v)]));
  }
}
