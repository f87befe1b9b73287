import { Body, Controller, HttpCode, NotFoundException, Param, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { EventView, RunView } from '@bench/events';
import { BenchDatabase, EventRepository, RunRepository } from '@bench/persistence';
import { CurrentUser, Route } from '../auth/access';
import type { AuthUser } from '../auth/auth.service';
import { OperatorActionsService, type ActionAccepted } from '../actions/operator-actions.service';
import { eventView, runView } from '../floor/views';
import { CancelRunDto, EmptyDto, RunsQueryDto, StartRunDto } from './dto';

@ApiTags('runs')
@Controller('api')
export class RunsController {
  private readonly runs: RunRepository;
  private readonly eventLog: EventRepository;

  constructor(
    database: BenchDatabase,
    private readonly actions: OperatorActionsService,
  ) {
    this.runs = new RunRepository(database);
    this.eventLog = new EventRepository(database);
  }

  @Route('runs', 'Runs, newest first')
  async list(@Query() query: RunsQueryDto): Promise<RunView[]> {
    const rows = await this.runs.list({
      state: query.state,
      slotId: query.slotId,
      deviceEcid: query.ecid?.toUpperCase().padStart(16, '0'),
      batchId: query.batchId,
      before: query.before ? new Date(query.before) : undefined,
      limit: query.limit ?? 50,
    });
    return rows.map(runView);
  }

  @Route('run', 'One run with its attempts')
  async get(@Param('runId') runId: string): Promise<RunView> {
    const row = await this.runs.find(runId);
    if (!row) throw new NotFoundException(`no run ${runId}`);
    return runView(row);
  }

  @Route('runEvents', "A run's event log, oldest first")
  async runEvents(@Param('runId') runId: string): Promise<EventView[]> {
    if (!(await this.runs.find(runId))) throw new NotFoundException(`no run ${runId}`);
    const rows = await this.eventLog.listForRun(runId);
    return rows.map((row) =>
      eventView({ ...row, payload: row.payload === null ? null : JSON.stringify(row.payload) }),
    );
  }

  @Route('startRun', 'Restore the phone on a slot (or the next one plugged in)')
  startRun(
    @Param('slotId') slotId: string,
    @Body() body: StartRunDto,
    @CurrentUser() user: AuthUser,
  ): Promise<RunView> {
    return this.actions.startRun(slotId, body, user);
  }

  @Route('cancelRun', 'Cancel a queued or running run')
  @HttpCode(202)
  cancelRun(
    @Param('runId') runId: string,
    @Body() body: CancelRunDto,
    @CurrentUser() user: AuthUser,
  ): Promise<ActionAccepted> {
    return this.actions.cancelRun(runId, body.reason, user);
  }

  @Route('retryRun', 'Restore a failed or cancelled run again (a new run), or start a waiting one now')
  async retryRun(
    @Param('runId') runId: string,
    @Body() _body: EmptyDto,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RunView> {
    const { run, created } = await this.actions.retryRun(runId, user);
    response.status(created ? 201 : 200);
    return run;
  }
}
