// What a technician can do from the API: start, cancel and retry runs; pause, resume and
// power-cycle a slot; clear a quarantine (with or without a new cable). Work on USB is asked of
// the agent that owns the port; the answer says when that agent is not there to hear it.
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { BENCH_CONFIG } from '@bench/app-runtime';
import type { BenchConfig } from '@bench/config';
import type { RunView, StartRunRequest } from '@bench/events';
import { AgentCommandSender, EventPublisher, type AgentCommand } from '@bench/jobs';
import type { AuthUser } from '../auth/auth.service';
import { runView } from '../floor/views';
import { SlotDirectory, type SlotRow } from '../live/slot-directory';
import { RunService } from '../records/run.service';

/** `held`: a run of a paused batch, kept off its port's queue until the batch resumes. */
const UNFINISHED = ['queued', 'held', 'running'];

export interface ActionAccepted {
  accepted: true;
  action: string;
  message: string;
}

@Injectable()
export class OperatorActionsService {
  private readonly commands: AgentCommandSender;
  private readonly events: EventPublisher;

  constructor(
    @Inject(BENCH_CONFIG) private readonly config: BenchConfig,
    private readonly runs: RunService,
    private readonly directory: SlotDirectory,
  ) {
    this.commands = new AgentCommandSender(runs.redis);
    this.events = new EventPublisher(runs.redis);
  }

  async slot(slotId: string): Promise<SlotRow> {
    const row = await this.directory.byId(slotId);
    if (!row) throw new NotFoundException(`no slot ${slotId}`);
    return row;
  }

  private async run(runId: string) {
    const run = await this.runs.runs.find(runId);
    if (!run) throw new NotFoundException(`no run ${runId}`);
    return run;
  }

  private policyFor(row: SlotRow, requested: string | undefined): string {
    const name =
      requested ??
      this.config.hosts
        .find((host) => host.id === row.hostId)
        ?.benches.find((bench) => bench.id === row.benchId)?.policy ??
      'default';
    if (!this.config.policies[name])
      throw new BadRequestException(
        `unknown policy ${name}; expected one of: ${Object.keys(this.config.policies).join(', ')}`,
      );
    return name;
  }

  private async refuseIfBusy(row: SlotRow): Promise<void> {
    const [existing] = await this.runs.runs.list({ slotId: row.id, limit: 1 });
    if (existing && UNFINISHED.includes(existing.state))
      throw new ConflictException(
        `slot ${row.label ?? row.portPath} already has run ${existing.id} (${existing.state})`,
      );
  }

  async startRun(slotId: string, request: StartRunRequest, user: AuthUser): Promise<RunView> {
    const row = await this.slot(slotId);
    await this.refuseIfBusy(row);
    const live = await this.runs.live.slot(row.hostId, row.portPath);
    const created = await this.runs.create({
      hostId: row.hostId,
      portPath: row.portPath,
      // The phone on the slot now; with none, the next phone plugged in gets the run.
      deviceEcid: live?.ecid,
      firmwareSelector: request.firmware ?? 'latest',
      behavior: request.behavior ?? 'erase',
      policy: this.policyFor(row, request.policy),
      operator: user.username,
    });
    return runView(created);
  }

  async cancelRun(runId: string, reason: string | undefined, user: AuthUser): Promise<ActionAccepted> {
    const run = await this.run(runId);
    if (!UNFINISHED.includes(run.state))
      throw new ConflictException(`run ${runId} already ended (${run.state})`);
    if (run.state === 'held') return this.cancelHeld(run, reason, user);
    const heard = await this.commands.send(run.hostId, {
      action: 'cancel',
      portPath: run.portPath,
      runId,
      reason: reason ?? '',
      by: user.username,
    });
    if (heard > 0)
      return { accepted: true, action: 'cancel', message: `asked ${run.hostId} to cancel run ${runId}` };
    // The agent is down: a run it is not working on can be taken off the queue from here.
    const outcome = await this.runs.queues.remove(run.hostId, run.portPath, runId);
    if (outcome === 'active')
      throw new ServiceUnavailableException(
        `host ${run.hostId} is offline and still holds run ${runId}; try again`,
      );
    await this.events.publish({
      kind: 'run.ended',
      hostId: run.hostId,
      portPath: run.portPath,
      at: Date.now(),
      runId,
      state: 'cancelled',
      failureClass: 'cancelled',
      message: `cancelled by ${user.username}${reason ? `: ${reason}` : ''} (host offline)`,
    });
    return {
      accepted: true,
      action: 'cancel',
      message: `run ${runId} cancelled (host ${run.hostId} is offline)`,
    };
  }

  /** A held run has no job on any queue: it ends here, on the record stream like any other end. */
  private async cancelHeld(
    run: { id: string; hostId: string; portPath: string },
    reason: string | undefined,
    user: AuthUser,
  ): Promise<ActionAccepted> {
    await this.events.publish({
      kind: 'run.ended',
      hostId: run.hostId,
      portPath: run.portPath,
      at: Date.now(),
      runId: run.id,
      state: 'cancelled',
      failureClass: 'cancelled',
      message: `cancelled by ${user.username}${reason ? `: ${reason}` : ''} (held by its paused batch)`,
    });
    return { accepted: true, action: 'cancel', message: `run ${run.id} cancelled (it was held)` };
  }

  /** A failed or cancelled run is restored again as a new run; a waiting one starts now. */
  async retryRun(runId: string, user: AuthUser): Promise<{ run: RunView; created: boolean }> {
    const run = await this.run(runId);
    if (run.state === 'held')
      throw new ConflictException(`run ${runId} is held by its paused batch: resume the batch to start it`);
    if (run.state === 'queued' || run.state === 'running') {
      if (await this.runs.queues.promote(run.hostId, run.portPath, runId))
        return { run: runView(run), created: false };
      throw new ConflictException(
        `run ${runId} is ${run.state === 'running' ? 'running' : 'already queued'}`,
      );
    }
    if (run.state === 'done')
      throw new ConflictException(`run ${runId} is done; start a new run to restore again`);
    const row = await this.slot(run.slotId);
    await this.refuseIfBusy(row);
    const created = await this.runs.create({
      hostId: run.hostId,
      portPath: run.portPath,
      deviceEcid: run.deviceEcid ?? undefined,
      firmwareSelector: run.firmwareSelector,
      behavior: run.behavior,
      policy: this.config.policies[run.policy] ? run.policy : 'default',
      operator: user.username,
      batchId: run.batchId ?? undefined,
    });
    return { run: runView(created), created: true };
  }

  async slotAction(
    slotId: string,
    action: 'pause' | 'resume' | 'power-cycle' | 'clear-quarantine' | 'cable-replaced',
    user: AuthUser,
  ): Promise<ActionAccepted> {
    const row = await this.slot(slotId);
    const command: AgentCommand =
      action === 'clear-quarantine' || action === 'cable-replaced'
        ? {
            action: 'clear-quarantine',
            portPath: row.portPath,
            cableReplaced: action === 'cable-replaced',
            by: user.username,
          }
        : { action, portPath: row.portPath, by: user.username };
    const heard = await this.commands.send(row.hostId, command);
    if (heard === 0)
      throw new ServiceUnavailableException(
        `host ${row.hostId} is offline: its agent cannot ${action} ${row.portPath}`,
      );
    return {
      accepted: true,
      action,
      message: `asked ${row.hostId} to ${action} ${row.label ?? row.portPath}`,
    };
  }
}
