// Runs, attempts, slots as the record keeps them. Every write is idempotent (a redelivered stream
// entry must not duplicate anything): attempts are keyed by (run, number), events by stream id.
import type { BenchDatabase } from './bench-database';
import { prismaCode, PrismaErrorCode } from './errors';

export interface NewRun {
  hostId: string;
  portPath: string;
  deviceEcid?: string;
  firmwareSelector: string;
  behavior: string;
  policy: string;
  operator?: string;
  batchId?: string;
}

const UNASSIGNED = (hostId: string) => `${hostId}-unassigned`;

export class RunRepository {
  constructor(private readonly db: BenchDatabase) {}

  /** The slot row of a port; a port no configuration named joins the host's "unassigned" bench. */
  async slotFor(hostId: string, portPath: string) {
    const prisma = this.db.prisma;
    // A configured bench wins over the "unassigned" bench a port joined before the topology came.
    const existing = await prisma.slot.findMany({ where: { portPath, bench: { hostId } } });
    const chosen = existing.find((slot) => slot.benchId !== UNASSIGNED(hostId)) ?? existing[0];
    if (chosen) return chosen;
    await prisma.host.upsert({ where: { id: hostId }, create: { id: hostId, name: hostId }, update: {} });
    const benchId = UNASSIGNED(hostId);
    await prisma.bench.upsert({
      where: { id: benchId },
      create: { id: benchId, hostId, name: 'Unassigned ports' },
      update: {},
    });
    return prisma.slot.upsert({
      where: { benchId_portPath: { benchId, portPath } },
      create: { benchId, portPath },
      update: {},
    });
  }

  async create(run: NewRun) {
    const slot = await this.slotFor(run.hostId, run.portPath);
    if (run.deviceEcid) {
      await this.db.prisma.device.upsert({
        where: { ecid: run.deviceEcid },
        create: { ecid: run.deviceEcid },
        update: {},
      });
    }
    return this.db.prisma.run.create({
      data: {
        slotId: slot.id,
        hostId: run.hostId,
        portPath: run.portPath,
        deviceEcid: run.deviceEcid,
        firmwareSelector: run.firmwareSelector,
        behavior: run.behavior,
        policy: run.policy,
        operator: run.operator,
        batchId: run.batchId,
      },
    });
  }

  find(id: string) {
    return this.db.prisma.run.findUnique({
      where: { id },
      include: { attempts: { orderBy: { number: 'asc' } } },
    });
  }

  /** Runs of a device that stop an auto-start: one queued, held (paused batch), running, or already done. */
  blockingRunFor(ecid: string) {
    return this.db.prisma.run.findFirst({
      where: { deviceEcid: ecid, state: { in: ['queued', 'held', 'running', 'done'] } },
    });
  }

  /**
   * Runs that should have a job (for reconciling the queues after a restart). A run `held` by a
   * paused batch has none on purpose, and an ended one never gets one again.
   */
  unfinished() {
    return this.db.prisma.run.findMany({ where: { state: { in: ['queued', 'running'] } } });
  }

  async attemptStarted(
    runId: string,
    number: number,
    at: Date,
    ecid: string,
    startMode?: string,
  ): Promise<void> {
    const prisma = this.db.prisma;
    await prisma.device.upsert({ where: { ecid }, create: { ecid }, update: { lastSeenAt: at } });
    // An attempt that never ended (its agent was killed) is closed as interrupted.
    await prisma.attempt.updateMany({
      where: { runId, number: { lt: number }, outcome: 'running' },
      data: { outcome: 'interrupted', endedAt: at },
    });
    try {
      await prisma.attempt.create({ data: { runId, number, startedAt: at, startMode } });
    } catch (error) {
      if (prismaCode(error) !== PrismaErrorCode.UniqueViolation) throw error;
    }
    const run = await prisma.run.findUnique({
      where: { id: runId },
      select: { startedAt: true, attemptCount: true },
    });
    if (!run) return;
    await prisma.run.update({
      where: { id: runId },
      data: {
        state: 'running',
        deviceEcid: ecid,
        startedAt: run.startedAt ?? at,
        attemptCount: Math.max(run.attemptCount, number),
      },
    });
  }

  async attemptEnded(
    runId: string,
    number: number,
    at: Date,
    result: {
      outcome: string;
      failureClass?: string;
      message?: string;
      evidence?: unknown;
      lastStage?: string;
    },
  ): Promise<void> {
    const prisma = this.db.prisma;
    const data = {
      outcome: result.outcome,
      failureClass: result.failureClass ?? null,
      message: result.message ?? null,
      evidence: result.evidence === undefined ? null : JSON.stringify(result.evidence),
      lastStage: result.lastStage ?? null,
      endedAt: at,
    };
    await prisma.attempt.upsert({
      where: { runId_number: { runId, number } },
      create: { runId, number, startedAt: at, ...data },
      update: data,
    });
  }

  async stageReached(runId: string, stage: string): Promise<void> {
    await this.db.prisma.run.updateMany({ where: { id: runId }, data: { lastStage: stage } });
  }

  async runEnded(
    runId: string,
    at: Date,
    result: { state: string; failureClass?: string; message?: string; toVersion?: string },
  ): Promise<void> {
    await this.db.prisma.run.updateMany({
      where: { id: runId },
      data: {
        state: result.state,
        finishedAt: at,
        failureClass: result.failureClass ?? null,
        failureMessage: result.state === 'done' ? null : (result.message ?? null),
        toVersion: result.toVersion,
      },
    });
  }

  async slotState(
    hostId: string,
    portPath: string,
    state: { state: string; ecid?: string; runId?: string; detail?: string },
  ): Promise<void> {
    const slot = await this.slotFor(hostId, portPath);
    await this.db.prisma.slot.update({
      where: { id: slot.id },
      data: {
        state: state.state,
        deviceEcid: state.ecid ?? null,
        runId: state.runId ?? null,
        detail: state.detail ?? null,
      },
    });
  }

  async quarantine(hostId: string, portPath: string, reason: string, at: Date): Promise<void> {
    const slot = await this.slotFor(hostId, portPath);
    await this.db.prisma.slot.update({
      where: { id: slot.id },
      data: { quarantinedAt: at, quarantineReason: reason },
    });
  }

  /** An operator released the port (and maybe replaced its cable). */
  async quarantineCleared(hostId: string, portPath: string, at: Date, cableReplaced: boolean): Promise<void> {
    const slot = await this.slotFor(hostId, portPath);
    await this.db.prisma.slot.update({
      where: { id: slot.id },
      data: {
        quarantinedAt: null,
        quarantineReason: null,
        ...(cableReplaced ? { cableReplacedAt: at } : {}),
      },
    });
  }

  /** Runs, newest first, filtered; `before` pages by creation time. */
  list(filter: {
    state?: string;
    slotId?: string;
    deviceEcid?: string;
    batchId?: string;
    before?: Date;
    limit: number;
  }) {
    return this.db.prisma.run.findMany({
      where: {
        state: filter.state,
        slotId: filter.slotId,
        deviceEcid: filter.deviceEcid,
        batchId: filter.batchId,
        createdAt: filter.before ? { lt: filter.before } : undefined,
      },
      orderBy: { createdAt: 'desc' },
      take: filter.limit,
      include: { attempts: { orderBy: { number: 'asc' } } },
    });
  }

  /** The newest run of a slot (what its drawer shows). */
  latestForSlot(slotId: string) {
    return this.db.prisma.run.findFirst({
      where: { slotId },
      orderBy: { createdAt: 'desc' },
      include: { attempts: { orderBy: { number: 'asc' } } },
    });
  }

  async healthSample(
    hostId: string,
    portPath: string,
    sample: {
      at: Date;
      ecid?: string;
      batteryLevel?: number;
      charging?: boolean;
      linkSpeedMbps?: number;
      throughputMBps?: number;
      attachCount: number;
      detachCount: number;
      usbErrorCount: number;
      cableScore: number;
      reasons: string[];
    },
  ): Promise<void> {
    const slot = await this.slotFor(hostId, portPath);
    const { reasons, ecid, ...values } = sample;
    await this.db.prisma.healthSample.create({
      data: { slotId: slot.id, deviceEcid: ecid, details: JSON.stringify({ reasons }), ...values },
    });
  }

  async hostSeen(hostId: string, at: Date): Promise<void> {
    await this.db.prisma.host.upsert({
      where: { id: hostId },
      create: { id: hostId, name: hostId, lastSeenAt: at },
      update: { lastSeenAt: at },
    });
  }

  /** Appends to the event log once per stream entry. */
  async appendEvent(event: {
    streamId: string;
    at: Date;
    kind: string;
    hostId?: string;
    slotId?: string;
    runId?: string;
    deviceEcid?: string;
    payload?: unknown;
  }): Promise<void> {
    try {
      await this.db.prisma.event.create({
        data: { ...event, payload: event.payload === undefined ? undefined : JSON.stringify(event.payload) },
      });
    } catch (error) {
      if (prismaCode(error) !== PrismaErrorCode.UniqueViolation) throw error;
    }
  }
}
