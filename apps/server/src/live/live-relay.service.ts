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
import { slotView } from '../floor/views';
import { FloorGateway } from './floor.gateway';

const GROUP = 'live-relay';
const HOSTS_EVERY_MS = 5_000;
const RETRY_MS = 2_000;

@Injectable()
export class LiveRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly reader: LiveFeedReader;
  private running = false;
  private loop?: Promise<void>;
  private hostsTimer?: NodeJS.Timeout;
  private readonly hostOnline = new Map<string, boolean>();

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
    this.hostsTimer = setInterval(() => void this.watchHosts(), HOSTS_EVERY_MS);
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

  private async watchHosts(): Promise<void> {
    try {
      for (const host of await this.floor.hosts()) {
        if (this.hostOnline.get(host.id) === host.online) continue;
        const known = this.hostOnline.has(host.id);
        this.hostOnline.set(host.id, host.online);
        if (known) this.gateway.emitHostLocally(host);
        if (known && !host.online) this.logger.warn(`host ${host.id} went offline (no heartbeat)`);
      }
    } catch (error) {
      this.logger.debug(`host watch: ${(error as Error).message}`);
    }
  }
}
