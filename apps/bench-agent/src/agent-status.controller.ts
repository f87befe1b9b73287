import { Controller, Get } from '@nestjs/common';
import type { LiveSlot } from '@bench/jobs';
import { AgentService } from './agent.service';

/** The agent's own view of its slots (loopback only; the server's API is the public one). */
@Controller('slots')
export class AgentStatusController {
  constructor(private readonly agent: AgentService) {}

  @Get()
  slots(): LiveSlot[] {
    return this.agent.slots();
  }
}
