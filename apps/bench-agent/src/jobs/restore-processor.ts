// The processor of a port's restore queue: one run, one attempt per call. It waits for the
// run's phone on the port (a hold that burns no attempt), runs the restore engine, reports
// every event, and after a failure lets the retry policy decide; BullMQ runs the retries
// (a thrown error with a delay), the holds (moved back to delayed) and the stops
// (UnrecoverableError). Nothing is caught and logged away here.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  BenchError,
  CancelledError,
  StuckError,
  dfuButtonsFor,
  parseEcid,
  type FailureClass,
  type RetryPolicy,
  type Stage,
} from '@bench/bench-domain';
import type { EventPublisher, LiveState, RestoreJobData, RunSpec } from '@bench/jobs';
import { parseRestoreJobData } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import {
  kickOut,
  scaleBudgets,
  stageBudgets,
  type RestoreCheckpoint,
  type RestoreEngine,
  type RestoreEvent,
} from '@bench/restore-engine';
import type { AgentIo } from '../io/agent-io';
import type { DeviceWatcher, PortPresence } from '../ports/device-watcher';
import type { PortInfo, PortRegistry } from '../ports/port-registry';
import type { SlotBoard } from '../slots/slot-board';
import type { HealthMonitor } from '../health/health-monitor';
import type { IpswDigests } from './ipsw-digests';
import type { PortQuarantine } from './port-quarantine';
import { decide, type LadderStep } from './retry-decider';

/** How long an attempt waits for its phone before the job is put back to wait (a hold). */
const RECONNECT_WAIT_MS = 60_000;
/**
 * A run whose phone stays away this long (device time) asks for a human instead of waiting for
 * ever: the phone was taken away, or it hangs where the host cannot even identify it.
 */
const MISSING_GIVE_UP_MS = 10 * 60_000;
/** The least wall time that is, under a fast simulated clock: one full wait for the phone. */
const MISSING_GIVE_UP_FLOOR_MS = RECONNECT_WAIT_MS;
const HOLD_RECHECK_MS = 15_000;
/** The stuck watchdog: no sign of life for this many stage budgets. */
const WATCHDOG_BUDGETS = 2;
const WATCHDOG_TICK_MS = 2_000;
const PROGRESS_EVERY_MS = 500;
/** How long a done attempt waits for its IPSW's hash (begun when the IPSW was opened) before recording without it. */
const IPSW_HASH_WAIT_MS = 60_000;

export class RetryableFailure extends Error {
  constructor(
    readonly failure: BenchError,
    readonly retryDelayMs: number,
  ) {
    super(failure.message);
    this.name = 'RetryableFailure';
  }
}

export interface RestoreJobResult {
  productVersion: string;
  buildVersion: string;
}

export interface ProcessorDeps {
  hostId: string;
  io: AgentIo;
  engine: RestoreEngine;
  watcher: DeviceWatcher;
  board: SlotBoard;
  events: EventPublisher;
  live: LiveState;
  ports: PortRegistry;
  quarantine: PortQuarantine;
  /** The configured retry policies by name: a run names its own (a batch may choose `overnight`). */
  policies?: Readonly<Record<string, RetryPolicy>>;
  health?: HealthMonitor;
  /** Notes the IPSW each attempt opens and its SHA-256 (the firmware store the engine uses must be tracked by it). */
  ipsw?: IpswDigests;
  /** Ports where a different phone appeared mid-restore (set by the agent; the run ends as wrong device). */
  wrongDevice?: Set<string>;
  /** Whether an operator paused the port (no run starts on it until resumed). */
  isPaused?: (portPath: string) => boolean;
  logger: Logger;
  /** Aborted when the agent shuts down: the attempt stops at a safe point and is put back. */
  shutdown: AbortSignal;
  budgets?: Partial<Record<Stage, number>>;
  /** The device clock's speed against ours (a simulator's speed factor; 1 on real hardware). */
  timeScale?: number;
}

export class RestoreProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  async process(
    job: Job<RestoreJobData>,
    token: string | undefined,
    bullSignal?: AbortSignal,
  ): Promise<RestoreJobResult> {
    const data = parseRestoreJobData(job.data);
    const spec = await this.deps.live.run(data.runId);
    if (!spec)
      throw new UnrecoverableError(
        `run ${data.runId} has no spec in Redis (it was not created through a bench server)`,
      );
    const port = this.portFor(spec);
    const logger = this.deps.logger.child({
      port: spec.portPath,
      ecid: spec.ecid,
      run: spec.id,
      component: 'RestoreProcessor',
    });
    // A worker may still take one job right after being paused: hold it until the port resumes.
    if (this.deps.isPaused?.(spec.portPath)) {
      return this.hold(job, token, spec, 'queued', 'slot paused by an operator: resume it to start');
    }
    if (this.deps.quarantine.isQuarantined(spec.portPath)) {
      return this.hold(
        job,
        token,
        spec,
        'quarantined',
        'port quarantined: swap the cable or port, then clear the quarantine',
      );
    }
    const presence = await this.awaitPhone(spec, bullSignal);
    if (!presence && bullSignal?.aborted) {
      const message = typeof bullSignal.reason === 'string' ? bullSignal.reason : 'cancelled by an operator';
      await this.end(spec, 'cancelled', 'idle', message, 'cancelled');
      throw new UnrecoverableError(message);
    }
    if (!presence) return this.holdForMissingPhone(job, token, spec, data);
    if (data.missingSince !== undefined) await job.updateData({ ...data, missingSince: undefined });
    if (spec.ecid && presence.ecid !== spec.ecid) {
      await this.end(
        spec,
        'failed',
        'attention',
        `wrong device: ${presence.ecid} is on ${spec.portPath}, this run is for ${spec.ecid}`,
        'cancelled',
      );
      throw new UnrecoverableError(`wrong device on ${spec.portPath}`);
    }
    const ecid = presence.ecid as string;
    const attempt = await this.deps.live.bump(spec.id, 'attempts');
    logger.info(`attempt ${attempt} starts (phone in ${presence.mode} mode)`);
    await this.deps.events.publish({
      kind: 'attempt.started',
      hostId: this.deps.hostId,
      portPath: spec.portPath,
      at: Date.now(),
      runId: spec.id,
      number: attempt,
      ecid,
      startMode: presence.mode === 'unknown' ? undefined : presence.mode,
    });
    this.deps.board.setState(spec.portPath, 'restoring', {
      ecid,
      runId: spec.id,
      attempt,
      maxAttempts: mostAttempts(port.policy),
      detail: undefined,
      productType: presence.productType ?? this.deps.board.get(spec.portPath)?.productType,
      fromVersion: presence.productVersion ?? this.deps.board.get(spec.portPath)?.fromVersion,
    });
    this.deps.watcher.setBusy(spec.portPath, true);
    const run = new AttemptRun(this.deps, job, spec, attempt, bullSignal);
    run.productType = presence.productType ?? this.deps.board.get(spec.portPath)?.productType;
    try {
      const execute = () => run.execute(ecid, data.checkpoint);
      const result = await (this.deps.ipsw ? this.deps.ipsw.within(spec.id, execute) : execute());
      await this.deps.events.publish({
        kind: 'attempt.ended',
        hostId: this.deps.hostId,
        portPath: spec.portPath,
        at: Date.now(),
        runId: spec.id,
        number: attempt,
        outcome: 'done',
        productVersion: result.productVersion,
        buildVersion: result.buildVersion,
        ipsw: await this.deps.ipsw?.takeRecord(spec.id, IPSW_HASH_WAIT_MS),
      });
      await this.end(
        spec,
        'done',
        'done',
        `iOS ${result.productVersion} (${result.buildVersion})`,
        undefined,
        { toVersion: result.productVersion },
      );
      logger.info(`done: iOS ${result.productVersion} (${result.buildVersion})`);
      return result;
    } catch (error) {
      return this.afterFailure(job, token, spec, port, attempt, run, error, logger);
    } finally {
      this.deps.watcher.setBusy(spec.portPath, false);
      run.dispose();
    }
  }

  private async afterFailure(
    job: Job<RestoreJobData>,
    token: string | undefined,
    spec: RunSpec,
    port: PortInfo,
    attempt: number,
    run: AttemptRun,
    error: unknown,
    logger: Logger,
  ): Promise<never> {
    const failure =
      error instanceof BenchError
        ? error
        : new BenchError(String((error as Error)?.message ?? error), 'unknown');
    if (this.deps.wrongDevice?.delete(spec.portPath)) {
      const message = `wrong device: a different phone appeared on ${spec.portPath} during the restore of ${run.ecid ?? spec.ecid}`;
      await this.end(spec, 'failed', 'attention', message, 'cancelled');
      throw new UnrecoverableError(message);
    }
    if (this.deps.shutdown.aborted && failure.failureClass === 'cancelled') {
      // The agent is stopping: put the job back as it was (no attempt burnt) to resume after restart.
      logger.info('agent shutting down: the run will resume after the restart');
      await job.moveToDelayed(Date.now() + 1_000, token);
      throw new DelayedError();
    }
    await this.deps.events.publish({
      kind: 'attempt.ended',
      hostId: this.deps.hostId,
      portPath: spec.portPath,
      at: Date.now(),
      runId: spec.id,
      number: attempt,
      outcome: 'failed',
      failureClass: failure.failureClass,
      message: failure.message,
      evidence: failure.evidence,
      lastStage: run.lastStage,
    });
    logger.warn(`attempt ${attempt} failed: ${failure.failureClass}: ${failure.message}`);
    if (failure.failureClass === 'transient-usb') {
      this.deps.health?.noteUsbError(spec.portPath);
      const quarantined = this.deps.quarantine.recordTransient(
        spec.portPath,
        spec.ecid ?? run.ecid ?? '?',
        port.policy.quarantineAfterPhones,
      );
      if (quarantined) {
        await this.deps.events.publish({
          kind: 'port.quarantined',
          hostId: this.deps.hostId,
          portPath: spec.portPath,
          at: Date.now(),
          reason: quarantined.reason,
          phones: quarantined.phones,
        });
        this.deps.board.setState(spec.portPath, 'quarantined', { detail: quarantined.reason });
        await this.end(
          spec,
          'failed',
          'quarantined',
          `${quarantined.reason}; move the phone to another slot`,
          'transient-usb',
        );
        throw new UnrecoverableError(quarantined.reason);
      }
    }
    const counters = await this.deps.live.counters(spec.id);
    const classFailures = await this.deps.live.bump(spec.id, `class:${failure.failureClass}`);
    const ladderTaken = (['kick-out', 'power-cycle'] as LadderStep[]).filter(
      (step) => (counters[`ladder:${step}`] ?? 0) > 0,
    );
    const decision = decide(port.policy, {
      failureClass: failure.failureClass,
      message: failure.message,
      classFailures,
      ladderTaken,
      canPowerCycle: await this.deps.io.canPowerCycle(spec.portPath),
      dfuButtons: dfuButtonsFor(run.productType),
    });
    switch (decision.action) {
      case 'retry':
        if (decision.ladder) await this.climb(decision.ladder, spec, run, logger);
        this.deps.board.setState(spec.portPath, 'retrying', { detail: decision.reason });
        throw new RetryableFailure(failure, decision.delayMs);
      case 'hold':
        return this.hold(job, token, spec, 'waiting-power', decision.reason, decision.recheckMs);
      case 'stop':
        await this.end(
          spec,
          decision.slotState === 'idle' ? 'cancelled' : 'failed',
          decision.slotState,
          decision.reason,
          failure.failureClass,
        );
        throw new UnrecoverableError(decision.reason);
    }
  }

  /** The escalation ladder: get the phone out of where it is stuck before the next attempt. */
  private async climb(step: LadderStep, spec: RunSpec, run: AttemptRun, logger: Logger): Promise<void> {
    await this.deps.live.bump(spec.id, `ladder:${step}`);
    try {
      if (step === 'kick-out' && run.ecid) {
        const result = await kickOut(
          { bus: this.deps.io.bus, usbmux: this.deps.io.usbmux },
          parseEcid(run.ecid),
          { portPath: spec.portPath, timeoutMs: 5_000 },
        );
        logger.info(`escalation: ${result.action} (phone was in ${result.from} mode)`);
      } else if (step === 'power-cycle') {
        await this.deps.io.powerCycle(spec.portPath);
        logger.info('escalation: port power-cycled');
      }
    } catch (error) {
      logger.warn(`escalation step ${step} failed: ${(error as Error).message}`);
    }
  }

  /** The port, with the retry policy the run asks for (its bench's policy when it names none known). */
  private portFor(spec: RunSpec): PortInfo {
    const port = this.deps.ports.ensure(spec.portPath);
    const policy = this.deps.policies?.[spec.policy];
    return policy ? { ...port, policy } : port;
  }

  /** The phone is not on its port: wait for it (without spending an attempt), up to a limit. */
  private async holdForMissingPhone(
    job: Job<RestoreJobData>,
    token: string | undefined,
    spec: RunSpec,
    data: RestoreJobData,
  ): Promise<never> {
    const now = Date.now();
    const since = data.missingSince ?? now - RECONNECT_WAIT_MS;
    const scale = Math.max(1, this.deps.timeScale ?? 1);
    const limitMs = Math.max(MISSING_GIVE_UP_FLOOR_MS, Math.round(MISSING_GIVE_UP_MS / scale));
    if (now - since >= limitMs) {
      const minutes = Math.round((now - since) / 60_000);
      const message = `the phone has not been seen on ${spec.portPath} for ${minutes} min: plug it back in (or put it in DFU mode if it is hung), then retry`;
      await this.end(spec, 'failed', 'attention', message, 'transient-usb');
      throw new UnrecoverableError(message);
    }
    if (data.missingSince === undefined) await job.updateData({ ...data, missingSince: since });
    return this.hold(job, token, spec, 'reconnecting', 'waiting for the phone to be plugged in again');
  }

  /** Waits a while for the phone on the port; undefined when it stays away. */
  private async awaitPhone(spec: RunSpec, signal?: AbortSignal): Promise<PortPresence | undefined> {
    const here = this.deps.watcher.presence(spec.portPath);
    if (here?.ecid) return here;
    this.deps.board.setState(spec.portPath, 'reconnecting', {
      runId: spec.id,
      ecid: spec.ecid,
      detail: 'waiting for the phone to come back',
    });
    // The watcher rejects when the wait is aborted; an operator's cancel is answered by the caller.
    return this.deps.watcher
      .waitForPhone(spec.portPath, RECONNECT_WAIT_MS, signal)
      .catch((error: unknown) => {
        if (signal?.aborted) return undefined;
        throw error;
      });
  }

  /** Puts the job back for a later look without spending an attempt (reconnecting, power, quarantine). */
  private async hold(
    job: Job<RestoreJobData>,
    token: string | undefined,
    spec: RunSpec,
    state: 'reconnecting' | 'waiting-power' | 'quarantined' | 'queued',
    detail: string,
    recheckMs = HOLD_RECHECK_MS,
  ): Promise<never> {
    this.deps.board.setState(spec.portPath, state, { runId: spec.id, ecid: spec.ecid, detail });
    await job.moveToDelayed(Date.now() + recheckMs, token);
    throw new DelayedError();
  }

  /** Ends the run: the record hears it, and the slot shows the outcome. */
  async end(
    spec: RunSpec,
    state: 'done' | 'failed' | 'cancelled',
    slotState: 'done' | 'bricked' | 'attention' | 'stuck' | 'idle' | 'quarantined',
    message: string,
    failureClass?: FailureClass,
    extra: { toVersion?: string } = {},
  ): Promise<void> {
    // A retry after the restore itself completed opens no IPSW: the run keeps the one noted before.
    this.deps.ipsw?.forget(spec.id);
    await this.deps.events.publish({
      kind: 'run.ended',
      hostId: this.deps.hostId,
      portPath: spec.portPath,
      at: Date.now(),
      runId: spec.id,
      state,
      failureClass,
      message,
    });
    this.deps.board.setState(spec.portPath, slotState, {
      detail: message,
      runId: spec.id,
      ...extra,
      stage: undefined,
      percent: undefined,
      etaSeconds: undefined,
    });
  }
}

/** One attempt: the engine run, its events, the progress it reports, and the stuck watchdog. */
class AttemptRun {
  lastStage?: Stage;
  ecid?: string;
  productType?: string;
  private readonly controller = new AbortController();
  private lastSignOfLife = Date.now();
  private inLine = false;
  private lastProgressAt = 0;
  private watchdog?: NodeJS.Timeout;

  constructor(
    private readonly deps: ProcessorDeps,
    private readonly job: Job<RestoreJobData>,
    private readonly spec: RunSpec,
    private readonly attempt: number,
    bullSignal: AbortSignal | undefined,
  ) {
    const cancel = (signal: AbortSignal) => () =>
      this.controller.abort(
        signal.reason instanceof BenchError ? signal.reason : new CancelledError('cancelled by an operator'),
      );
    bullSignal?.addEventListener('abort', cancel(bullSignal), { once: true });
    deps.shutdown.addEventListener(
      'abort',
      () => this.controller.abort(new CancelledError('the agent is shutting down')),
      { once: true },
    );
  }

  async execute(
    ecid: string,
    checkpoint: RestoreCheckpoint | undefined,
  ): Promise<{ productVersion: string; buildVersion: string }> {
    this.ecid = ecid;
    this.startWatchdog();
    const result = await this.deps.engine.restore({
      ecid: parseEcid(ecid),
      portPath: this.spec.portPath,
      behavior: this.spec.behavior,
      firmware:
        this.spec.firmwareSelector === 'latest' ? { latest: true } : { build: this.spec.firmwareSelector },
      budgets: this.deps.budgets,
      timeScale: this.deps.timeScale,
      discoveryTimeoutMs: 30_000,
      checkpoint,
      signal: this.controller.signal,
      onEvent: (event) => this.onEvent(event),
      onCheckpoint: (next) => {
        void this.job.updateData({
          runId: this.spec.id,
          checkpoint: { restoreCompleted: next.restoreCompleted, lastStage: next.lastStage },
        });
      },
    });
    return result;
  }

  dispose(): void {
    clearInterval(this.watchdog);
  }

  private filesystemStart?: { at: number; bytes: number };

  private noteThroughput(bytesSent: number): void {
    const now = Date.now();
    if (!this.filesystemStart) {
      this.filesystemStart = { at: now, bytes: bytesSent };
      return;
    }
    const seconds = (now - this.filesystemStart.at) / 1000;
    if (seconds >= 2)
      this.deps.health?.noteThroughput(
        this.spec.portPath,
        (bytesSent - this.filesystemStart.bytes) / seconds / 1e6,
      );
  }

  private onEvent(event: RestoreEvent): void {
    this.lastSignOfLife = Date.now();
    const { board, events, hostId } = this.deps;
    const portPath = this.spec.portPath;
    if (event.type === 'stage') {
      this.lastStage = event.stage;
      this.inLine = false;
      board.update(portPath, {
        stage: event.stage,
        percent: 0,
        etaSeconds: undefined,
        queuePosition: undefined,
        detail: undefined,
      });
    } else if (event.type === 'progress') {
      this.inLine = false;
      board.update(portPath, {
        stage: event.stage,
        percent: Math.round(event.percent),
        etaSeconds: event.etaSeconds,
        queuePosition: undefined,
      });
      if (event.stage === 'send-filesystem' && event.bytesSent) this.noteThroughput(event.bytesSent);
      if (Date.now() - this.lastProgressAt >= PROGRESS_EVERY_MS) {
        this.lastProgressAt = Date.now();
        void this.job.updateProgress({
          stage: event.stage,
          percent: event.percent,
          bytesSent: event.bytesSent,
          bytesTotal: event.bytesTotal,
          etaSeconds: event.etaSeconds,
        });
      }
      return; // progress reaches the record only as the live view (too many to store)
    } else if (event.type === 'device') {
      board.update(portPath, { mode: event.mode });
    } else if (event.type === 'firmware') {
      board.update(portPath, { toVersion: event.version });
    } else if (event.type === 'battery') {
      board.update(portPath, { batteryLevel: event.percent });
    } else if (event.type === 'warning') {
      const line = /waiting for an upload slot: #(\d+)/.exec(event.message);
      if (line) {
        this.inLine = true;
        board.update(portPath, { queuePosition: Number(line[1]), detail: event.message });
      } else {
        board.update(portPath, {
          detail: event.message,
          linkSpeedMbps: /12 Mbit|full speed/.test(event.message) ? 12 : undefined,
        });
      }
    }
    void events
      .publish({ kind: 'restore.event', hostId, portPath, runId: this.spec.id, attempt: this.attempt, event })
      .catch(() => undefined);
  }

  /** Independent of the engine's budgets: no sign of life for N stage budgets → abort as stuck. */
  private startWatchdog(): void {
    const budgets = scaleBudgets(stageBudgets(this.deps.budgets), this.deps.timeScale);
    this.watchdog = setInterval(() => {
      if (this.inLine) return;
      const stage = this.lastStage ?? 'prepare';
      const budget = budgets[stage];
      const silent = Date.now() - this.lastSignOfLife;
      if (silent > WATCHDOG_BUDGETS * budget) {
        this.controller.abort(
          new StuckError(
            `watchdog: no progress in ${stage} for ${Math.round(silent / 1000)} s (${WATCHDOG_BUDGETS} × its budget)`,
            { stage },
          ),
        );
      }
    }, WATCHDOG_TICK_MS);
  }
}

/** What the floor shows as "attempt n/m": the most attempts any retried class may take. */
function mostAttempts(policy: RetryPolicy): number {
  return Math.max(
    1,
    ...Object.values(policy.rules).map((rule) => (rule.action === 'retry' ? (rule.maxAttempts ?? 2) : 1)),
  );
}
