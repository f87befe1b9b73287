// One report row per run (one phone, one request): who, what, where, from → to, how many
// attempts with which failure classes, and how it ended.
import type { FailureClass } from '@bench/bench-domain';
import type { DeviceReportRow, ReportAttempt, RunOutcome } from '@bench/events';
import { indexEvents, runFacts, type EventIndex, type RunFacts } from './event-facts';
import type { DeviceRecord, RunRecord, RunsRecords, SlotRecord } from './records';

/** How the default retry policy leaves a slot after a run failed with a class (when no slot state was recorded). */
const STATE_AFTER_FAILURE: Partial<Record<string, RunOutcome>> = {
  'device-hardware': 'bricked',
  stuck: 'stuck',
};

export function buildDeviceRows(records: RunsRecords): DeviceReportRow[] {
  const index = indexEvents(records.events);
  const devices = new Map(records.devices.map((device) => [device.ecid, device]));
  const slots = new Map(records.slots.map((slot) => [slot.id, slot]));
  return records.runs
    .map((run) =>
      buildDeviceRow(run, {
        device: run.deviceEcid ? devices.get(run.deviceEcid) : undefined,
        slot: slots.get(run.slotId),
        index,
      }),
    )
    .sort(compareRows);
}

export function buildDeviceRow(
  run: RunRecord,
  context: { device?: DeviceRecord; slot?: SlotRecord; index: EventIndex },
): DeviceReportRow {
  const facts = runFacts(run, context.index);
  const startedAt = run.startedAt ?? run.attempts[0]?.startedAt ?? null;
  return {
    runId: run.id,
    batchId: run.batchId,
    ecid: run.deviceEcid,
    serialNumber: context.device?.serialNumber ?? null,
    model: context.device?.productType ?? facts.productType ?? null,
    hardwareModel: context.device?.hardwareModel ?? null,
    fromVersion: run.fromVersion ?? facts.fromVersion ?? null,
    toVersion: facts.verified?.productVersion ?? run.toVersion ?? facts.target?.version ?? null,
    build: facts.verified?.buildVersion ?? run.firmwareBuild ?? facts.target?.build ?? null,
    ipswSha256: facts.ipsw?.sha256 ?? null,
    ipswFile: facts.ipsw?.fileName ?? null,
    hostId: run.hostId,
    portPath: run.portPath,
    slot: context.slot?.label ?? run.portPath,
    operator: run.operator,
    behavior: run.behavior,
    firmwareSelector: run.firmwareSelector,
    startedAt: iso(startedAt),
    finishedAt: iso(run.finishedAt),
    durationSeconds:
      startedAt && run.finishedAt
        ? Math.max(0, Math.round((run.finishedAt.getTime() - startedAt.getTime()) / 1000))
        : null,
    attempts: run.attempts.map(reportAttempt),
    outcome: outcomeOf(run, facts),
    failureClass: run.state === 'done' ? null : ((run.failureClass as FailureClass | null) ?? null),
    failureMessage: run.state === 'done' ? null : run.failureMessage,
  };
}

export function outcomeOf(run: Pick<RunRecord, 'state' | 'failureClass'>, facts: RunFacts): RunOutcome {
  switch (run.state) {
    case 'done':
    case 'cancelled':
    case 'running':
      return run.state;
    case 'failed':
      break;
    default:
      // queued, or held back (a paused batch): not started yet.
      return 'queued';
  }
  if (facts.endState && facts.endState !== 'done') return facts.endState;
  if (!run.failureClass) return 'failed';
  return STATE_AFTER_FAILURE[run.failureClass] ?? 'attention';
}

function reportAttempt(attempt: RunRecord['attempts'][number]): ReportAttempt {
  return {
    number: attempt.number,
    outcome: attempt.outcome,
    failureClass: (attempt.failureClass as FailureClass | null) ?? null,
    message: attempt.message,
    lastStage: attempt.lastStage,
    startedAt: attempt.startedAt.toISOString(),
    endedAt: iso(attempt.endedAt),
  };
}

function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** Host, then slot label in natural order (A2 before A10), then when the run began. */
function compareRows(a: DeviceReportRow, b: DeviceReportRow): number {
  return (
    a.hostId.localeCompare(b.hostId) ||
    a.slot.localeCompare(b.slot, 'en', { numeric: true }) ||
    (a.startedAt ?? '').localeCompare(b.startedAt ?? '') ||
    a.runId.localeCompare(b.runId)
  );
}

/** `#1 transient-usb; #2 done`: the attempts in one cell. */
export function attemptClasses(row: Pick<DeviceReportRow, 'attempts'>): string {
  return row.attempts
    .map((attempt) => `#${attempt.number} ${attempt.failureClass ?? attempt.outcome}`)
    .join('; ');
}
