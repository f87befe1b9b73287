import { Body, Controller, HttpCode, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { BatchView } from '@bench/events';
import { CurrentUser, Route } from '../auth/access';
import type { AuthUser } from '../auth/auth.service';
import { BatchService } from '../batches/batch.service';
import { CancelBatchDto, CreateBatchDto, EmptyDto } from './dto';

@ApiTags('batches')
@Controller('api')
export class BatchesController {
  constructor(private readonly batches: BatchService) {}

  @Route('batches', 'Batches, newest first, with their runs counted by state')
  list(): Promise<BatchView[]> {
    return this.batches.list();
  }

  @Route('batch', 'One batch: its progress, what the pre-fetch found per model, its warnings')
  get(@Param('batchId') batchId: string): Promise<BatchView> {
    return this.batches.get(batchId);
  }

  @Route(
    'createBatch',
    'Restore the phones on slots or benches, now or at a time; the firmware is pre-fetched and its signing checked first',
  )
  create(@Body() body: CreateBatchDto, @CurrentUser() user: AuthUser): Promise<BatchView> {
    return this.batches.create(body, user);
  }

  @Route('pauseBatch', 'Hold the runs not yet started (running ones finish)')
  @HttpCode(200)
  pause(
    @Param('batchId') batchId: string,
    @Body() _body: EmptyDto,
    @CurrentUser() user: AuthUser,
  ): Promise<BatchView> {
    return this.batches.pause(batchId, user);
  }

  @Route('resumeBatch', 'Release the held runs, or pre-fetch again after attention')
  @HttpCode(200)
  resume(
    @Param('batchId') batchId: string,
    @Body() _body: EmptyDto,
    @CurrentUser() user: AuthUser,
  ): Promise<BatchView> {
    return this.batches.resume(batchId, user);
  }

  @Route('cancelBatch', 'Cancel the runs not yet started and ask the running ones to stop')
  @HttpCode(200)
  cancel(
    @Param('batchId') batchId: string,
    @Body() body: CancelBatchDto,
    @CurrentUser() user: AuthUser,
  ): Promise<BatchView> {
    return this.batches.cancel(batchId, body.reason, user);
  }
}
