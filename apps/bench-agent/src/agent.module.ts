import { Module, type DynamicModule } from '@nestjs/common';
import { RuntimeModule, type BootContext } from '@bench/app-runtime';
import { AgentService } from './agent.service';
import { AgentStatusController } from './agent-status.controller';
import { SimulationController } from './simulation.controller';
import { MetricsController } from './metrics/metrics.controller';
import { ProcessMetrics } from './metrics/process-metrics';

/**
 * The one process per host that owns the USB bus. It needs Redis only: the server writes the
 * database from the agent's record stream, so an agent keeps restoring while the database is down.
 */
@Module({})
export class AgentModule {
  static register(context: BootContext): DynamicModule {
    return {
      module: AgentModule,
      imports: [RuntimeModule.forRoot({ app: 'bench-agent', database: false, ...context })],
      providers: [AgentService, { provide: ProcessMetrics, useFactory: () => new ProcessMetrics() }],
      controllers: [AgentStatusController, SimulationController, MetricsController],
    };
  }
}
