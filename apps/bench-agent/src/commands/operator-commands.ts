// Operator actions arriving from a server (cancel, pause/resume, power-cycle, clear quarantine):
// carried out here, where the USB bus and the workers are, and reported back on the record
// stream as `operator.action` (done or refused, with the reason) so the timeline shows who did
// what. Paused ports are remembered in Redis: a restarted agent keeps them paused. A batch's
// `prefetch` is about the host, not a port: it answers in Redis (firmware-prefetch.ts).
import type { Redis } from 'ioredis';
import { PrefetchAnswers, type AgentCommand, type EventPublisher, type PortCommand } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import type { HealthMonitor } from '../health/health-monitor';
import type { AgentIo } from '../io/agent-io';
import type { PortQuarantine } from '../jobs/port-quarantine';
import type { PortWorkers } from '../jobs/port-workers';
import type { SlotBoard } from '../slots/slot-board';
import { FirmwarePrefetch } from './firmware-prefetch';
import type { PausedPorts } from './paused-ports';

export interface OperatorCommandDeps {
  hostId: string;
  paused: PausedPorts;
  io: AgentIo;
  workers: PortWorkers;
  board: SlotBoard;
  quarantine: PortQuarantine;
  health: HealthMonitor;
  events: EventPublisher;
  /** Whether a phone is attached to the port now. */
  phoneOn(portPath: string): boolean;
  /** Takes a waiting run off the port's queue and ends it as cancelled; false when there is none. */
  cancelWaiting(portPath: string, runId: string, message: string): Promise<boolean>;
  /** Starts the port's runs that wait out a hold now (after a quarantine is cleared). */
  startHeldRuns(portPath: string): Promise<void>;
  logger: Logger;
  /** Where pre-fetch answers are written for the server that asked. */
  redis: Redis;
}

class Refused extends Error {}

export class OperatorCommands {
  private readonly prefetch: FirmwarePrefetch;

  constructor(private readonly deps: OperatorCommandDeps) {
    this.prefetch = new FirmwarePrefetch({
      hostId: deps.hostId,
      firmware: deps.io.firmware,
      tss: deps.io.tss,
      answers: new PrefetchAnswers(deps.redis),
      logger: deps.logger,
    });
  }

  /** Re-applies the pauses of a previous run of this agent. */
  async restorePauses(): Promise<void> {
    for (const portPath of await this.deps.paused.load()) {
      await this.deps.workers.pause(portPath);
      this.deps.board.update(portPath, { paused: true });
    }
  }

  async handle(command: AgentCommand): Promise<void> {
    if (command.action === 'prefetch') {
      await this.prefetch
        .handle(command)
        .catch((error: Error) =>
          this.deps.logger.warn(`pre-fetch ${command.requestId} could not answer: ${error.message}`),
        );
      return;
    }
    await this.handlePortCommand(command);
  }

  private async handlePortCommand(command: PortCommand): Promise<void> {
    const { logger } = this.deps;
    let outcome: 'done' | 'refused' = 'done';
    let message: string | undefined;
    try {
      message = await this.carryOut(command);
      logger.info(`${command.portPath}: ${command.action} by ${command.by}${message ? `: ${message}` : ''}`);
    } catch (error) {
      outcome = 'refused';
      message = (error as Error).message;
      logger.warn(`${command.portPath}: ${command.action} by ${command.by} refused: ${message}`);
    }
    await this.deps.events
      .publish({
        kind: 'operator.action',
        hostId: this.deps.hostId,
        portPath: command.portPath,
        at: Date.now(),
        action: command.action,
        by: command.by,
        runId: command.action === 'cancel' ? command.runId : undefined,
        cableReplaced: command.action === 'clear-quarantine' ? command.cableReplaced : undefined,
        outcome,
        message,
      })
      .catch(() => undefined);
  }

  private async carryOut(command: PortCommand): Promise<string | undefined> {
    const { workers, board, paused } = this.deps;
    const { portPath } = command;
    if (!board.get(portPath)) throw new Refused(`no port ${portPath} on this host`);
    switch (command.action) {
      case 'cancel': {
        const message = `cancelled by ${command.by}${command.reason ? `: ${command.reason}` : ''}`;
        if (workers.activeJob(portPath) === command.runId) {
          workers.cancel(portPath, message);
          return 'the restore stops at its next safe point';
        }
        if (await this.deps.cancelWaiting(portPath, command.runId, message)) return 'taken off the queue';
        throw new Refused(`run ${command.runId} is neither running nor waiting on ${portPath}`);
      }
      case 'pause':
        await paused.pause(portPath);
        await workers.pause(portPath);
        board.update(portPath, { paused: true });
        return workers.activeJob(portPath) ? 'the running restore finishes; no new run starts' : undefined;
      case 'resume':
        await paused.resume(portPath);
        workers.resume(portPath);
        board.update(portPath, { paused: false });
        // Runs held while the port was paused start now.
        await this.deps.startHeldRuns(portPath);
        return undefined;
      case 'power-cycle':
        return this.powerCycle(portPath);
      case 'clear-quarantine':
        return this.clearQuarantine(portPath, command.cableReplaced);
    }
  }

  private async powerCycle(portPath: string): Promise<string> {
    // Cutting power mid-restore would leave the phone half-written: cancel the run first.
    if (this.deps.workers.activeJob(portPath)) throw new Refused('a restore is running: cancel it first');
    if (!(await this.deps.io.canPowerCycle(portPath)))
      throw new Refused('the hub of this port cannot switch its power (no per-port power switching)');
    await this.deps.io.powerCycle(portPath);
    return 'port power switched off and on';
  }

  private async clearQuarantine(portPath: string, cableReplaced: boolean): Promise<string | undefined> {
    const { quarantine, health, board } = this.deps;
    const was = quarantine.isQuarantined(portPath);
    await quarantine.clear(portPath);
    if (cableReplaced) health.resetPort(portPath);
    const slot = board.get(portPath);
    if (slot?.state === 'quarantined')
      board.setState(portPath, this.deps.phoneOn(portPath) ? 'idle' : 'empty', { detail: undefined });
    if (!was && !cableReplaced) throw new Refused('the port is not quarantined');
    await this.deps.startHeldRuns(portPath);
    return cableReplaced ? 'cable replaced: the port starts with a clean record' : undefined;
  }
}
