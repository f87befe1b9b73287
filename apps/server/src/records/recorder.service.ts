// The single writer of the record: it reads the agents' event stream (a consumer group), writes
// each entry to the database, and acknowledges it only afterwards. When the database is down the
// entries wait in Redis and are written when it is back; a redelivered entry is written once
// (events carry their stream id; attempts are keyed by run and number).
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { BENCH_ENV, LOGGER } from '@bench/app-runtime';
import type { BenchEnv } from '@bench/config';
import type { BenchRecordEvent } from '@bench/events';
import { createRedis, EventConsumer, type StreamEntry } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import { BenchDatabase, DeviceRepository, TopologyRepository } from '@bench/persistence';
import { parseEcid } from '@bench/bench-domain';
import { AlertsService } from '../live/alerts.service';
import { SlotDirectory } from '../live/slot-directory';
import { RunService } from './run.service';

const GROUP = 'recorder';
const HEALTH_EVERY_MS = 60_000;
const HOST_SEEN_EVERY_MS = 15_000;
const RETRY_MS = 2_000;
const POISON_TRIES = 5;

@Injectable()
export class RecorderService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly consumer: EventConsumer;
  private readonly devices: DeviceRepository;
  private readonly topology: TopologyRepository;
  private readonly lastHealth = new Map<string, number>();
  private readonly lastHostSeen = new Map<string, number>();
  private running = false;
  private readonly failures = new Map<string, number>();
  private loop?: Promise<void>;
  recorded = 0;

  constructor(
    @Inject(BENCH_ENV) env: BenchEnv,
    @Inject(LOGGER) private readonly rootLogger: Logger,
    private readonly database: BenchDatabase,
    private readonly runs: RunService,
    private readonly directory: SlotDirectory,
    private readonly alerts: AlertsService,
  ) {
    // A blocking reader needs its own connection.
    this.redis = createRedis(env.redis.url as string, 'worker');
    this.redis.on('error', () => undefined);
    this.consumer = new EventConsumer(this.redis, GROUP, `${hostname()}-${process.pid}`);
    this.devices = new DeviceRepository(database);
    this.topology = new TopologyRepository(database);
  }

  private get logger(): Logger {
    return this.rootLogger.child({ component: 'Recorder' });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.redis.disconnect();
    await this.loop?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.consumer.ensureGroup();
        const entries = [
          ...(await this.consumer.claimAbandoned(60_000, 100)),
          ...(await this.consumer.read(200, 2_000)),
        ];
        const done: string[] = [];
        try {
          for (const entry of entries) {
            await this.recordOrSkip(entry);
            done.push(entry.id);
          }
        } finally {
          await this.consumer.ack(done);
        }
      } catch (error) {
        if (!this.running) return;
        // The database or Redis is away: nothing was acknowledged, so nothing is lost; try again.
        this.logger.warn(`recording paused: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /**
   * An entry that keeps failing while the database answers is bad data, not an outage: after a
   * few tries it is logged and skipped so it cannot block everything behind it.
   */
  private async recordOrSkip(entry: StreamEntry): Promise<void> {
    try {
      await this.record(entry);
      this.failures.delete(entry.id);
    } catch (error) {
      const tries = (this.failures.get(entry.id) ?? 0) + 1;
      this.failures.set(entry.id, tries);
      const databaseUp = await this.database.ping().then(
        () => true,
        () => false,
      );
      if (tries >= POISON_TRIES && databaseUp) {
        this.failures.delete(entry.id);
        this.logger.error(
          `skipping stream entry ${entry.id} (${entry.event?.kind ?? 'unparsable'}) after ${tries} failures: ${(error as Error).message}`,
        );
        return;
      }
      throw error;
    }
  }

  private async record(entry: StreamEntry): Promise<void> {
    const event = entry.event;
    if (!event) {
      this.logger.warn(`skipping malformed stream entry ${entry.id}`);
      return;
    }
    const at = new Date('at' in event ? event.at : Date.now());
    const runs = this.runs.runs;
    switch (event.kind) {
      case 'host.heartbeat':
        if (Date.now() - (this.lastHostSeen.get(event.hostId) ?? 0) > HOST_SEEN_EVERY_MS) {
          this.lastHostSeen.set(event.hostId, Date.now());
          await runs.hostSeen(event.hostId, at);
        }
        return;
      case 'host.topology':
        await this.topology.syncHost(
          event.hostId,
          event.hostId,
          event.benches.map((b) => ({ id: b.id, name: b.name, slots: b.slots })),
        );
        this.directory.invalidate();
        break;
      case 'slot.state':
        await runs.slotState(event.hostId, event.portPath, event);
        await this.alerts.onSlotState(event);
        break;
      case 'device.seen':
        await this.devices.recordSeen(
          {
            ecid: parseEcid(event.device.ecid),
            udid: event.device.udid,
            serialNumber: event.device.serialNumber,
            productType: event.device.productType,
            chipId: event.device.chipId,
            boardId: event.device.boardId,
          },
          at,
        );
        break;
      case 'autostart.request': {
        const run = await this.runs.autoStart(event);
        if (run)
          this.logger.info(
            `auto-start: run ${run.id} for ${event.ecid} on ${event.hostId}/${event.portPath}`,
          );
        break;
      }
      case 'attempt.started':
        await runs.attemptStarted(event.runId, event.number, at, event.ecid, event.startMode);
        break;
      case 'restore.event':
        if (event.event.type === 'progress') return;
        if (event.event.type === 'stage') await runs.stageReached(event.runId, event.event.stage);
        // Recovery tells the serial number (SRNM) that iOS keeps to itself without pairing.
        if (event.event.type === 'device' && event.event.serialNumber)
          await this.devices.recordSeen(
            { ecid: parseEcid(event.event.ecid), serialNumber: event.event.serialNumber },
            at,
          );
        break;
      case 'attempt.ended':
        await runs.attemptEnded(event.runId, event.number, at, event);
        break;
      case 'run.ended':
        await runs.runEnded(event.runId, at, event);
        break;
      case 'health.sample': {
        const key = `${event.hostId}/${event.portPath}`;
        if (Date.now() - (this.lastHealth.get(key) ?? 0) < HEALTH_EVERY_MS) return;
        this.lastHealth.set(key, Date.now());
        await runs.healthSample(event.hostId, event.portPath, {
          at,
          ecid: event.ecid,
          batteryLevel: event.batteryLevel,
          charging: event.charging,
          linkSpeedMbps: event.linkSpeedMbps,
          throughputMBps: event.throughputMBps,
          attachCount: event.attachCount,
          detachCount: event.detachCount,
          usbErrorCount: event.usbErrorCount,
          cableScore: event.cableScore,
          reasons: event.reasons,
        });
        return;
      }
      case 'port.quarantined':
        await runs.quarantine(event.hostId, event.portPath, event.reason, at);
        break;
      case 'operator.action':
        if (event.action === 'clear-quarantine' && event.outcome === 'done')
          await runs.quarantineCleared(event.hostId, event.portPath, at, event.cableReplaced === true);
        break;
      case 'device.left':
        break;
    }
    const slot = 'portPath' in event ? await this.directory.at(event.hostId, event.portPath) : undefined;
    await runs.appendEvent({
      streamId: entry.id,
      at: event.kind === 'restore.event' ? new Date(event.event.at) : at,
      kind: event.kind === 'restore.event' ? `restore.${event.event.type}` : event.kind,
      hostId: event.hostId,
      slotId: slot?.id,
      runId: 'runId' in event ? event.runId : undefined,
      deviceEcid: eventEcid(event),
      payload: event,
    });
    this.recorded++;
  }
}

/**
 * The phone an event is about, for the log's ECID index. A sighting carries it inside `device`
 * (reports find the iOS version a phone had before its run through it), in canonical form.
 */
function eventEcid(event: BenchRecordEvent): string | undefined {
  if (event.kind === 'device.seen') {
    try {
      return parseEcid(event.device.ecid);
    } catch {
      return undefined;
    }
  }
  return 'ecid' in event && typeof event.ecid === 'string' ? event.ecid : undefined;
}
