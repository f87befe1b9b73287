import { Controller, Get, HttpStatus, Res, SetMetadata } from '@nestjs/common';
import type { Response } from 'express';
import { HealthService, type HealthReport } from './health.service';
import { PUBLIC_ROUTE } from './tokens';

/** Load balancers and the supervisor probe it: no credentials needed, and it reveals nothing. */
@SetMetadata(PUBLIC_ROUTE, true)
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  async get(@Res({ passthrough: true }) response: Response): Promise<HealthReport> {
    const report = await this.health.check();
    response.status(report.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }
}
