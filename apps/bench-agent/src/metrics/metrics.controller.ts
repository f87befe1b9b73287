import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { AgentService } from '../agent.service';
import type { EventLoopDelay, ProcessMetricsSnapshot } from './process-metrics';
import { ProcessMetrics } from './process-metrics';

export interface AgentMetrics extends ProcessMetricsSnapshot {
  /** Filesystem uploads running and waiting for a slot, per USB controller (admission control). */
  uploads: Record<string, { active: number; waiting: number }>;
}

/**
 * The agent's CPU, memory, event-loop delay and upload lines (loopback, like `/slots`).
 * `POST /metrics/event-loop` closes the current event-loop window and starts a new one, so a
 * measurement covers exactly the minutes it is about.
 */
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: ProcessMetrics,
    private readonly agent: AgentService,
  ) {}

  @Get()
  read(): AgentMetrics {
    return { ...this.metrics.snapshot(), uploads: this.agent.uploads() };
  }

  @Post('event-loop')
  @HttpCode(200)
  restartWindow(): EventLoopDelay {
    return this.metrics.restartEventLoopWindow();
  }
}
