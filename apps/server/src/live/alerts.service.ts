// A slot that turns stuck, bricked, attention or quarantined needs a human: raise an alert on
// the dashboards and call the configured webhooks. The recorder hands over every slot change once
// (its consumer group splits entries among servers); Redis remembers the last alert per slot so
// a redelivered entry or a detail change within the same state does not alert twice.
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BENCH_CONFIG, LOGGER } from '@bench/app-runtime';
import { ALERT_STATES, type AlertState, type BenchConfig } from '@bench/config';
import type { AlertMessage, BenchRecordEvent } from '@bench/events';
import type { Logger } from '@bench/logging';
import { RunService } from '../records/run.service';
import { SlotDirectory } from './slot-directory';
import { FloorGateway } from './floor.gateway';
import { deliver } from './webhooks';

type SlotStateEvent = Extract<BenchRecordEvent, { kind: 'slot.state' }>;

const alertKey = (hostId: string, portPath: string) => `bench:alerted:${hostId}:${portPath}`;

function isAlertState(state: string): state is AlertState {
  return (ALERT_STATES as readonly string[]).includes(state);
}

@Injectable()
export class AlertsService {
  constructor(
    @Inject(BENCH_CONFIG) private readonly config: BenchConfig,
    @Inject(LOGGER) private readonly rootLogger: Logger,
    private readonly runs: RunService,
    private readonly directory: SlotDirectory,
    private readonly gateway: FloorGateway,
  ) {}

  private get logger(): Logger {
    return this.rootLogger.child({ component: 'Alerts' });
  }

  async onSlotState(event: SlotStateEvent): Promise<AlertMessage | undefined> {
    const key = alertKey(event.hostId, event.portPath);
    const redis = this.runs.redis;
    if (!isAlertState(event.state)) {
      await redis.del(key);
      return undefined;
    }
    const mark = `${event.state}:${event.runId ?? ''}:${event.ecid ?? ''}`;
    const previous = await redis.set(key, mark, 'GET');
    if (previous === mark) return undefined;
    const row = await this.directory.at(event.hostId, event.portPath);
    if (!row) return undefined;
    const alert: AlertMessage = {
      id: randomUUID(),
      slotId: row.id,
      hostId: event.hostId,
      portPath: event.portPath,
      label: row.label,
      state: event.state,
      message: event.detail ?? `slot ${row.label ?? event.portPath} is ${event.state}`,
      at: event.at,
    };
    this.gateway.emitAlert(alert, row.benchId);
    this.logger.warn(`alert: ${alert.label ?? alert.portPath} is ${alert.state}: ${alert.message}`);
    void this.callWebhooks(alert);
    return alert;
  }

  private async callWebhooks(alert: AlertMessage): Promise<void> {
    const hooks = this.config.alerts.webhooks.filter((hook) => hook.states.includes(alert.state));
    await Promise.all(
      hooks.map(async (hook) => {
        const result = await deliver(hook, { type: 'alert', alert });
        if (!result.ok)
          this.logger.warn(
            `webhook ${hook.url} failed after ${result.tries} tries: ${result.error ?? `HTTP ${result.status}`}`,
          );
      }),
    );
  }
}
