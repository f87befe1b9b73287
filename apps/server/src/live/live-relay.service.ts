// Reads the agents' live feed (one consumer group for all servers: each update is relayed once)
// and broadcasts each slot's view; watches the agents' heartbeats and tells this server's
// browsers when a host comes or goes.
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { BENCH_ENV, LOGGER } from '@bench/app-runtime';
import type { BenchEnv } from '@bench/config';
import { createRedis, LiveFeedReader } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import { FloorService } from '../floor/floor.service';
import { HOST_WATCH_MS, slotView } from '../floor/views';
import { FloorGateway } from './floor.gateway';

const GROUP = 'live-relay';
const RETRY_MS = 2_000;

@Injectable()
export class LiveRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly reader: LiveFeedReader;
  private running = false;
  private loop?: Promise<void>;
  private hostsTimer?: NodeJS.Timeout;
  private readonly hostOnline = new Map<string, boolean>();
  /** After the first read a host first seen online is new (for the log only). */
  private hostsPrimed = false;

  constructor(
    @Inject(BENCH_ENV) private readonly env: BenchEnv,
    @Inject(LOGGER) private readonly rootLogger: Logger,
    private readonly floor: FloorService,
    private readonly gateway: FloorGateway,
  ) {
    // A blocking reader needs its own connection.
    this.redis = createRedis(env.redis.url as string, 'worker');
    this.redis.on('error', () => undefined);
    this.reader = new LiveFeedReader(this.redis, GROUP, `${hostname()}-${process.pid}`);
  }

  private get logger(): Logger {
    return this.rootLogger.child({ component: 'LiveRelay' });
  }

  onApplicationBootstrap(): void {
    this.running = true;
    if (this.env.server.liveRelay) this.loop = this.relay();
    else this.logger.info('live relay off (BENCH_LIVE_RELAY=false): other servers relay the live feed');
    // With the online window this bounds how long a dead agent looks alive (floor/views.ts).
    this.hostsTimer = setInterval(() => void this.watchHosts(), HOST_WATCH_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    clearInterval(this.hostsTimer);
    this.redis.disconnect();
    await this.loop?.catch(() => undefined);
  }

  private async relay(): Promise<void> {
    while (this.running) {
      try {
        await this.reader.ensureGroup();
        const updates = await this.reader.read(500, 2_000);
        // Only the newest update of each slot in a batch matters to a browser.
        const newest = new Map(updates.map((slot) => [`${slot.hostId}\u0000${slot.portPath}`, slot]));
        for (const slot of newest.values()) {
          const row = await this.floor.directory.at(slot.hostId, slot.portPath);
          // A port the recorder has not written yet: the browser gets it with the next floor read.
          if (row) this.gateway.emitSlot(slotView(row, slot));
        }
      } catch (error) {
        if (!this.running) return;
        this.logger.warn(`live relay paused: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /**
   * Host presence is only ever computed here and in the floor snapshot (FloorService.hosts): a
   * host that goes offline or comes back, or a new host, reaches browsers as `host.updated`, and
   * the dashboard shows that host's slots offline from it. Nothing here touches the host's runs:
   * its queued and running jobs wait in its own port queues until its agent is back.
   */
  private async watchHosts(): Promise<void> {
    try {
      for (const host of await this.floor.hosts()) {
        const before = this.hostOnline.get(host.id);
        if (before === host.online) continue;
        this.hostOnline.set(host.id, host.online);
        // A host first seen offline is in every browser's floor snapshot already, and a new
        // agent's topology can reach the record before its first heartbeat: it joins the floor
        // when it first beats, rather than flashing "offline" for a few seconds.
        if (before === undefined && !host.online) continue;
        // A host first seen online is sent too: a browser that loaded its floor before the
        // host's first beat (this server's first look may come seconds later) learns of it here.
        this.gateway.emitHostLocally(host);
        if (before === false) this.logger.info(`host ${host.id} is back online`);
        else if (!host.online)
          this.logger.warn(`host ${host.id} went offline (no heartbeat since ${host.lastSeenAt})`);
        else if (this.hostsPrimed) this.logger.info(`host ${host.id} joined`);
      }
      this.hostsPrimed = true;
    } catch (error) {
      this.logger.debug(`host watch: ${(error as Error).message}`);
    }
  }
}
