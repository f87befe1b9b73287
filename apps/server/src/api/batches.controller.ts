import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { BatchView } from '@bench/events';
import { BatchRepository, BenchDatabase } from '@bench/persistence';
import { Route } from '../auth/access';

@ApiTags('batches')
@Controller('api')
export class BatchesController {
  private readonly batches: BatchRepository;

  constructor(database: BenchDatabase) {
    this.batches = new BatchRepository(database);
  }

  @Route('batches', 'Batches, newest first, with their runs counted by state')
  async list(): Promise<BatchView[]> {
    return (await this.batches.list()).map((batch) => ({
      id: batch.id,
      name: batch.name,
      firmwareSelector: batch.firmwareSelector,
      behavior: batch.behavior,
      state: batch.state,
      benchIds: batch.benches.map((b) => b.benchId),
      scheduledAt: batch.scheduledAt?.toISOString() ?? null,
      createdBy: batch.createdBy,
      createdAt: batch.createdAt.toISOString(),
      startedAt: batch.startedAt?.toISOString() ?? null,
      finishedAt: batch.finishedAt?.toISOString() ?? null,
      runStates: batch.runStates,
    }));
  }
}
