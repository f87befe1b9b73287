// The bench agent's life: open the USB side (real or simulated), learn the ports, watch which
// phone is where, run one restore worker per port, ask for auto-start runs, sample health,
// and on SIGTERM stop taking jobs and bring running restores to a safe point.
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BENCH_CONFIG, BENCH_ENV, LOGGER } from '@bench/app-runtime';
import type { BenchConfig, BenchEnv } from '@bench/config';
import {
  AgentCommandListener,
  createRedis,
  EventPublisher,
  LiveFeedPublisher,
  LiveState,
  RestoreQueues,
  type LiveSlot,
} from '@bench/jobs';
import type { Logger } from '@bench/logging';
import { RestoreEngine } from '@bench/restore-engine';
import { OperatorCommands } from './commands/operator-commands';
import { PausedPorts } from './commands/paused-ports';
import { HealthMonitor } from './health/health-monitor';
import { createAgentIo, type AgentIo } from './io/agent-io';
import { IpswDigests } from './jobs/ipsw-digests';
import { PortQuarantine } from './jobs/port-quarantine';
import { PortWorkers } from './jobs/port-workers';
import { RestoreProcessor } from './jobs/restore-processor';
import { UploadAdmissionControl } from './jobs/upload-admission';
import { DeviceWatcher, type PortPresence } from './ports/device-watcher';
import { PortRegistry, type PortInfo } from './ports/port-registry';
import { DonePhones } from './slots/done-phones';
import { SlotBoard } from './slots/slot-board';

const HEARTBEAT_MS = 5_000;
const SHUTDOWN_GRACE_MS = 30_000;

@Injectable()
export class AgentService implements OnApplicationBootstrap, OnApplicationShutdown {
  private redis?: Redis;
  private subscriber?: Redis;
  private io?: AgentIo;
  private watcher?: DeviceWatcher;
  private board?: SlotBoard;
  private workers?: PortWorkers;
  private processor?: RestoreProcessor;
  private paused?: PausedPorts;
  private health?: HealthMonitor;
  private registry?: PortRegistry;
  private events?: EventPublisher;
  private live?: LiveState;
  private admission?: UploadAdmissionControl;
  private heartbeat?: NodeJS.Timeout;
  private donePhones?: DonePhones;
  private readonly shutdown = new AbortController();
  private readonly autoRequested = new Set<string>();
  readonly wrongDevice = new Set<string>();

  constructor(
    @Inject(BENCH_ENV) private readonly env: BenchEnv,
    @Inject(BENCH_CONFIG) private readonly config: BenchConfig,
    @Inject(LOGGER) private readonly rootLogger: Logger,
  ) {}

  private get logger(): Logger {
    return this.rootLogger.child({ component: 'Agent' });
  }

  async onApplicationBootstrap(): Promise<void> {
    const { env } = this;
    if (!env.redis.url) throw new Error('REDIS_URL must be resolved before the agent starts');
    // Workers wait for Redis forever; events queue while Redis restarts (nothing is dropped).
    this.redis = createRedis(env.redis.url, 'worker');
    this.redis.on('error', (error) => this.logger.debug(`redis: ${error.message}`));
    this.live = new LiveState(this.redis);
    this.events = new EventPublisher(this.redis);
    this.io = await createAgentIo(env, this.rootLogger);
    const registry = new PortRegistry(env, this.config, this.io.simulatedPorts);
    this.registry = registry;
    const quarantine = new PortQuarantine(this.redis, env.hostId);
    await quarantine.load();
    this.paused = new PausedPorts(this.redis, env.hostId);
    this.board = new SlotBoard(
      env.hostId,
      this.live,
      this.events,
      this.rootLogger,
      new LiveFeedPublisher(this.redis),
    );
    this.watcher = new DeviceWatcher(
      this.io.bus,
      this.io.usbmux,
      this.rootLogger.child({ component: 'DeviceWatcher' }),
    );
    const watcher = this.watcher;
    this.donePhones = new DonePhones(this.board, (portPath) => watcher.presence(portPath) !== undefined);
    this.health = new HealthMonitor(
      env.hostId,
      registry,
      this.watcher,
      this.board,
      this.events,
      this.rootLogger,
      env.agentTuning.healthIntervalMs,
    );
    const ipsw = new IpswDigests();
    const engine = new RestoreEngine({
      bus: this.io.bus,
      usbmux: this.io.usbmux,
      tss: this.io.tss,
      firmware: ipsw.track(this.io.firmware),
      logger: this.rootLogger.child({ component: 'RestoreEngine' }),
      admission: (this.admission = new UploadAdmissionControl(env.agentTuning.uploadsPerController)),
    });
    const processor = new RestoreProcessor({
      hostId: env.hostId,
      io: this.io,
      engine,
      watcher: this.watcher,
      board: this.board,
      events: this.events,
      live: this.live,
      ports: registry,
      quarantine,
      policies: this.config.policies,
      health: this.health,
      ipsw,
      wrongDevice: this.wrongDevice,
      isPaused: (portPath) => this.paused?.has(portPath) ?? false,
      timeScale: this.io.timeScale,
      logger: this.rootLogger,
      shutdown: this.shutdown.signal,
    });
    this.processor = processor;
    this.workers = new PortWorkers(env.hostId, this.redis, processor, this.rootLogger);
    for (const port of registry.all()) this.addPort(port);
    for (const portPath of registry.all().map((p) => p.portPath)) {
      const record = quarantine.record(portPath);
      if (record) this.board.setState(portPath, 'quarantined', { detail: record.reason });
    }
    await this.publishTopology();
    await this.listenForOperators(quarantine);
    this.watcher.on('seen', (presence, previous) => this.onSeen(presence, previous));
    this.watcher.on('left', (portPath) => this.onLeft(portPath));
    await this.watcher.start();
    this.health.start();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    void this.beat();
    this.logger.info(`agent ready: ${registry.all().length} port(s), one restore worker each`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.logger.info(
      'stopping: no new jobs; running restores stop at a safe point and resume after a restart',
    );
    clearInterval(this.heartbeat);
    this.donePhones?.stop();
    this.shutdown.abort();
    this.health?.stop();
    this.watcher?.stop();
    await this.workers?.closeAll(SHUTDOWN_GRACE_MS);
    this.board?.stop();
    await this.io?.close().catch(() => undefined);
    this.subscriber?.disconnect();
    this.redis?.disconnect();
  }

  /** In simulation: phones, the faults planned for each, and the faults carried out so far. */
  simulation(): { controlUrl?: string; phones: unknown[]; faults: unknown[]; log: unknown[] } | undefined {
    const sim = this.io?.sim;
    if (!sim) return undefined;
    return {
      controlUrl: this.io?.simControlUrl,
      phones: sim.phones.map((phone) => ({ ...phone.snapshot(), port: sim.portOf(phone) })),
      faults: sim.faults
        .rules()
        .map((rule) => ({ ...rule, ecid: rule.ecid?.toString(16).toUpperCase().padStart(16, '0') })),
      log: sim.faults.log,
    };
  }

  /** Filesystem uploads running and waiting, per USB controller (the metrics endpoint). */
  uploads(): Record<string, { active: number; waiting: number }> {
    return this.admission?.snapshot() ?? {};
  }

  /** The live slots of this host (for the agent's own status endpoint). */
  slots(): LiveSlot[] {
    return this.board?.all() ?? [];
  }

  private addPort(port: PortInfo): void {
    this.board?.register(port);
    this.workers?.ensure(port.portPath);
  }

  private onSeen(presence: PortPresence, previous: PortPresence | undefined): void {
    const registry = this.registry as PortRegistry;
    const known = registry.get(presence.portPath);
    const port = registry.ensure(presence.portPath);
    if (!known) {
      this.addPort(port);
      void this.publishTopology();
    }
    if (presence.ecid) {
      void this.events?.publish({
        kind: 'device.seen',
        hostId: this.env.hostId,
        portPath: presence.portPath,
        at: Date.now(),
        mode: presence.mode === 'unknown' ? 'normal' : presence.mode,
        device: {
          ecid: presence.ecid,
          udid: presence.udid,
          productType: presence.productType,
          productVersion: presence.productVersion,
          buildVersion: presence.buildVersion,
          serialNumber: presence.serialNumber,
          chipId: presence.chipId,
          boardId: presence.boardId,
        },
      });
    }
    const busy = this.workers?.activeJob(presence.portPath) !== undefined;
    const slot = this.board?.get(presence.portPath);
    if (busy) {
      // Safety first: a different phone on a port that is restoring aborts that run.
      const bound = slot?.ecid;
      if (presence.ecid && bound && presence.ecid !== bound) {
        this.logger.warn(
          `${presence.portPath}: ${presence.ecid} appeared while restoring ${bound}: aborting as wrong device`,
        );
        this.wrongDevice.add(presence.portPath);
        this.workers?.cancel(presence.portPath, 'wrong device');
      }
      return;
    }
    if (!presence.ecid) return;
    if (
      slot &&
      [
        'quarantined',
        'done',
        'bricked',
        'attention',
        'stuck',
        'waiting-power',
        'reconnecting',
        'retrying',
        'queued',
      ].includes(slot.state) &&
      slot.ecid === presence.ecid
    ) {
      this.board?.update(presence.portPath, { mode: presence.mode });
      return;
    }
    if (slot?.state === 'quarantined') return;
    if (
      slot?.state === 'empty' &&
      this.donePhones?.returned(presence.portPath, presence.ecid, presence.mode)
    ) {
      this.logger.info(`${presence.portPath}: ${presence.ecid} is back on its slot: still done`);
      return;
    }
    this.board?.setState(presence.portPath, 'idle', {
      ecid: presence.ecid,
      mode: presence.mode,
      productType: presence.productType,
      fromVersion: presence.productVersion,
      linkSpeedMbps: presence.speedMbps,
      detail: undefined,
    });
    // Asked once per phone and port: the server decides (it never restores a phone twice whose
    // run is queued, running or done); a phone moved to another slot after a failure asks again.
    const request = `${presence.portPath}:${presence.ecid}`;
    if (port.autoStart && previous?.ecid !== presence.ecid && !this.autoRequested.has(request)) {
      this.autoRequested.add(request);
      this.board?.setState(presence.portPath, 'queued', {
        detail: `auto-start: ${port.autoStart.firmware} (${port.autoStart.behavior})`,
      });
      void this.events?.publish({
        kind: 'autostart.request',
        hostId: this.env.hostId,
        portPath: presence.portPath,
        at: Date.now(),
        ecid: presence.ecid,
        firmwareSelector: port.autoStart.firmware,
        behavior: port.autoStart.behavior,
        policy: port.policy.name,
      });
    }
  }

  private onLeft(portPath: string): void {
    const busy = this.workers?.activeJob(portPath) !== undefined;
    if (busy) {
      this.health?.noteRestoreDetach(portPath);
      return;
    }
    const slot = this.board?.get(portPath);
    void this.events?.publish({
      kind: 'device.left',
      hostId: this.env.hostId,
      portPath,
      at: Date.now(),
      ecid: slot?.ecid,
    });
    if (
      slot &&
      ['quarantined', 'waiting-power', 'reconnecting', 'retrying', 'bricked', 'attention', 'stuck'].includes(
        slot.state,
      )
    )
      return;
    if (slot?.state === 'done') {
      this.donePhones?.left(portPath);
      return;
    }
    this.board?.setState(portPath, 'empty', { ecid: undefined, mode: undefined, detail: undefined });
  }

  /** Operator actions from the servers (cancel, pause, power-cycle, clear quarantine). */
  private async listenForOperators(quarantine: PortQuarantine): Promise<void> {
    const { env } = this;
    const commands = new OperatorCommands({
      hostId: env.hostId,
      paused: this.paused as PausedPorts,
      io: this.io as AgentIo,
      workers: this.workers as PortWorkers,
      board: this.board as SlotBoard,
      quarantine,
      health: this.health as HealthMonitor,
      events: this.events as EventPublisher,
      phoneOn: (portPath) => this.watcher?.presence(portPath) !== undefined,
      cancelWaiting: (portPath, runId, message) => this.cancelWaiting(portPath, runId, message),
      startHeldRuns: async (portPath) => {
        const queues = new RestoreQueues(this.redis as Redis, this.live as LiveState);
        await queues.promoteAll(env.hostId, portPath).finally(() => queues.close());
      },
      logger: this.logger,
      redis: this.redis as Redis,
    });
    await commands.restorePauses();
    this.subscriber = createRedis(env.redis.url as string, 'worker');
    this.subscriber.on('error', (error) => this.logger.debug(`redis (commands): ${error.message}`));
    await new AgentCommandListener(this.subscriber).listen(
      env.hostId,
      (command) => void commands.handle(command),
      (text) => this.logger.warn(`ignoring a malformed operator command: ${text.slice(0, 200)}`),
    );
  }

  private async cancelWaiting(portPath: string, runId: string, message: string): Promise<boolean> {
    const live = this.live as LiveState;
    const queues = new RestoreQueues(this.redis as Redis, live);
    const outcome = await queues.remove(this.env.hostId, portPath, runId).finally(() => queues.close());
    if (outcome === 'active') return this.workers?.cancel(portPath, message) ?? false;
    if (outcome === 'missing') return false;
    const spec = await live.run(runId);
    if (spec) await this.processor?.end(spec, 'cancelled', 'idle', message, 'cancelled');
    return true;
  }

  private async publishTopology(): Promise<void> {
    await this.events?.publish({
      kind: 'host.topology',
      hostId: this.env.hostId,
      at: Date.now(),
      benches: this.registry?.topology() ?? [],
    });
  }

  private async beat(): Promise<void> {
    const at = Date.now();
    try {
      await this.live?.heartbeat(this.env.hostId, at);
      await this.events?.publish({
        kind: 'host.heartbeat',
        hostId: this.env.hostId,
        at,
        ports: this.registry?.all().length ?? 0,
      });
    } catch (error) {
      this.logger.debug(`heartbeat: ${(error as Error).message}`);
    }
  }
}
