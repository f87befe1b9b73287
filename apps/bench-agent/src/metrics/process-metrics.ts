// The agent's own vital signs for operators and benchmarks: CPU time, memory and event-loop
// delay. Event-loop delay is how late the loop runs a timer it was asked to run on time: every
// USB timeout, watchdog and hotplug reaction of every port waits behind it, so it is the
// number that says the agent keeps up with its ports.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { OnModuleDestroy } from '@nestjs/common';

/** How often the delay is sampled (ms): fine enough for a 50 ms target, cheap enough to leave on. */
const RESOLUTION_MS = 10;

export interface EventLoopDelay {
  /** When this window started (ISO 8601). */
  since: string;
  /** Timer samples in the window. */
  samples: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ProcessMetricsSnapshot {
  pid: number;
  uptimeSeconds: number;
  /** CPU time since the process started (all threads). */
  cpu: { userSeconds: number; systemSeconds: number };
  memory: { rssBytes: number; peakRssBytes: number; heapUsedBytes: number };
  eventLoopDelay: EventLoopDelay;
}

export class ProcessMetrics implements OnModuleDestroy {
  private readonly histogram: IntervalHistogram;
  private since = new Date();

  constructor() {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
  }

  snapshot(): ProcessMetricsSnapshot {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    return {
      pid: process.pid,
      uptimeSeconds: Math.round(process.uptime()),
      cpu: { userSeconds: cpu.user / 1e6, systemSeconds: cpu.system / 1e6 },
      memory: {
        rssBytes: memory.rss,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        heapUsedBytes: memory.heapUsed,
      },
      eventLoopDelay: this.eventLoopDelay(),
    };
  }

  /** Closes the current event-loop window (returned) and starts a new one. */
  restartEventLoopWindow(): EventLoopDelay {
    const closed = this.eventLoopDelay();
    this.histogram.reset();
    this.since = new Date();
    return closed;
  }

  /** Nest calls this at shutdown. */
  onModuleDestroy(): void {
    this.histogram.disable();
  }

  private eventLoopDelay(): EventLoopDelay {
    const h = this.histogram;
    // The histogram holds the intervals between the sampling timer's runs, which include the
    // resolution itself (an idle loop shows 10 ms): the delay is what exceeds it.
    const ms = (ns: number) =>
      Number.isFinite(ns) ? Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100) : 0;
    const samples = h.count;
    return {
      since: this.since.toISOString(),
      samples,
      meanMs: samples ? ms(h.mean) : 0,
      p50Ms: samples ? ms(h.percentile(50)) : 0,
      p90Ms: samples ? ms(h.percentile(90)) : 0,
      p99Ms: samples ? ms(h.percentile(99)) : 0,
      maxMs: samples ? ms(h.max) : 0,
    };
  }
}
