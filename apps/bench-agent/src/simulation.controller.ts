import { Controller, Get, NotFoundException } from '@nestjs/common';
import { AgentService } from './agent.service';

/** In simulation: the phones, the faults drawn for them and the faults carried out (trainers, tests). */
@Controller('simulation')
export class SimulationController {
  constructor(private readonly agent: AgentService) {}

  @Get()
  simulation(): unknown {
    const sim = this.agent.simulation();
    if (!sim) throw new NotFoundException('this agent drives real hardware');
    return sim;
  }
}
