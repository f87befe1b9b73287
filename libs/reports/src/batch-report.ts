// The morning report of a batch as data: summary figures, who needs a person and why (with what
// to do), which ports were quarantined, and every phone's row. The HTML, CSV and JSON forms are
// all made from this one object.
import { dfuButtonsFor, type FailureClass } from '@bench/bench-domain';
import type {
  BatchReport,
  BatchReportSummary,
  DeviceReportRow,
  NeedsHumanEntry,
  QuarantinedSlotEntry,
} from '@bench/events';
import { buildDeviceRows } from './device-rows';
import type { BatchRecords, EventRecord, SlotRecord } from './records';

const NEEDS_HUMAN: readonly NeedsHumanEntry['outcome'][] = [
  'bricked',
  'stuck',
  'attention',
  'quarantined',
  'failed',
];

export function buildBatchReport(records: BatchRecords, options: { shop: string; now: Date }): BatchReport {
  const devices = buildDeviceRows(records);
  const needsHuman = devices.filter(needsPerson).map(needsHumanEntry);
  const quarantinedSlots = quarantinedSlotsOf(records.slots, records.events);
  const batch = records.batch;
  return {
    generatedAt: options.now.toISOString(),
    shop: options.shop,
    batch: {
      id: batch.id,
      name: batch.name,
      firmwareSelector: batch.firmwareSelector,
      behavior: batch.behavior,
      state: batch.state,
      scheduledAt: batch.scheduledAt?.toISOString() ?? null,
      createdBy: batch.createdBy,
      createdAt: batch.createdAt.toISOString(),
      startedAt: batch.startedAt?.toISOString() ?? null,
      finishedAt: batch.finishedAt?.toISOString() ?? null,
    },
    summary: summarize(devices, needsHuman, quarantinedSlots),
    needsHuman,
    quarantinedSlots,
    devices,
  };
}

/** Done after more than one attempt: the retries worked, but a port or cable may be worth a look. */
export function retriedRows(devices: readonly DeviceReportRow[]): DeviceReportRow[] {
  return devices.filter((row) => row.outcome === 'done' && row.attempts.length > 1);
}

function needsPerson(row: DeviceReportRow): row is DeviceReportRow & { outcome: NeedsHumanEntry['outcome'] } {
  return (NEEDS_HUMAN as readonly string[]).includes(row.outcome);
}

function needsHumanEntry(row: DeviceReportRow & { outcome: NeedsHumanEntry['outcome'] }): NeedsHumanEntry {
  return {
    runId: row.runId,
    ecid: row.ecid,
    model: row.model,
    slot: row.slot,
    outcome: row.outcome,
    failureClass: row.failureClass,
    message: row.failureMessage,
    action: whatToDo(row),
  };
}

/** The next step for a technician, from how the run ended and its failure class. */
export function whatToDo(
  row: Pick<DeviceReportRow, 'outcome' | 'failureClass' | 'model' | 'slot' | 'build'>,
): string {
  const dfu = `put the phone in DFU mode (${dfuButtonsFor(row.model ?? undefined)})`;
  switch (row.outcome) {
    case 'bricked':
      return 'Set the phone aside for repair: it reported a hardware fault (the device log is in its last attempt).';
    case 'stuck':
      return `The phone hangs where the bench cannot reach it: ${dfu}, then retry the run.`;
    case 'quarantined':
      return `Move the phone to another slot and retry it; swap the cable of ${row.slot}, then clear its quarantine.`;
    case 'attention':
      return ATTENTION[row.failureClass ?? 'unknown']?.(row, dfu) ?? defaultAction(dfu);
    default:
      return defaultAction(dfu);
  }
}

function defaultAction(dfu: string): string {
  return `Read the attempts' evidence; if the phone hangs, ${dfu}, then retry the run.`;
}

const ATTENTION: Partial<Record<FailureClass, (row: Pick<DeviceReportRow, 'build'>, dfu: string) => string>> =
  {
    'signing-refused': (row) =>
      `Apple no longer signs ${row.build ?? 'this build'} for this model: retry with a signed build (e.g. latest).`,
    'firmware-invalid': () =>
      'The IPSW failed verification: check it (bench firmware verify), fetch it again, then retry.',
    'host-setup': () =>
      'Fix the host as the message says (usbmuxd, USB permissions, disk space), then retry.',
    'transient-usb': () =>
      'Check the cable and port, re-plug the phone or move it to another slot, then retry.',
    power: () => 'Charge the phone (or give its port more power), then retry.',
    cancelled: () =>
      'Check the message (a different phone on the port?) and start a run for the right phone.',
  };

/** Ports quarantined during the batch (from the event log), and any still quarantined now. */
function quarantinedSlotsOf(
  slots: readonly SlotRecord[],
  events: readonly EventRecord[],
): QuarantinedSlotEntry[] {
  const byId = new Map(slots.map((slot) => [slot.id, slot]));
  const latest = new Map<string, QuarantinedSlotEntry>();
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    if (event.kind !== 'port.quarantined') continue;
    const payload = (typeof event.payload === 'object' && event.payload !== null ? event.payload : {}) as {
      hostId?: unknown;
      portPath?: unknown;
      reason?: unknown;
      phones?: unknown;
    };
    const slot = event.slotId ? byId.get(event.slotId) : undefined;
    const hostId = slot?.hostId ?? (typeof payload.hostId === 'string' ? payload.hostId : '?');
    const portPath = slot?.portPath ?? (typeof payload.portPath === 'string' ? payload.portPath : '?');
    latest.set(`${hostId}/${portPath}`, {
      hostId,
      portPath,
      slot: slot?.label ?? portPath,
      since: event.at.toISOString(),
      reason: typeof payload.reason === 'string' ? payload.reason : (slot?.quarantineReason ?? 'quarantined'),
      phones: Array.isArray(payload.phones)
        ? payload.phones.filter((p): p is string => typeof p === 'string')
        : [],
      stillQuarantined: slot ? slot.quarantinedAt !== null : false,
    });
  }
  for (const slot of slots) {
    const key = `${slot.hostId}/${slot.portPath}`;
    if (!slot.quarantinedAt || latest.has(key)) continue;
    latest.set(key, {
      hostId: slot.hostId,
      portPath: slot.portPath,
      slot: slot.label ?? slot.portPath,
      since: slot.quarantinedAt.toISOString(),
      reason: slot.quarantineReason ?? 'quarantined',
      phones: [],
      stillQuarantined: true,
    });
  }
  return [...latest.values()].sort(
    (a, b) => a.hostId.localeCompare(b.hostId) || a.slot.localeCompare(b.slot, 'en', { numeric: true }),
  );
}

function summarize(
  devices: readonly DeviceReportRow[],
  needsHuman: readonly NeedsHumanEntry[],
  quarantinedSlots: readonly QuarantinedSlotEntry[],
): BatchReportSummary {
  const count = (outcome: DeviceReportRow['outcome']) =>
    devices.filter((row) => row.outcome === outcome).length;
  const done = count('done');
  const finishedBadly = needsHuman.length;
  const failuresByClass: Partial<Record<FailureClass, number>> = {};
  for (const attempt of devices.flatMap((row) => row.attempts)) {
    if (attempt.failureClass)
      failuresByClass[attempt.failureClass] = (failuresByClass[attempt.failureClass] ?? 0) + 1;
  }
  return {
    devices: devices.length,
    done,
    doneFirstTry: devices.filter((row) => row.outcome === 'done' && row.attempts.length <= 1).length,
    retried: retriedRows(devices).length,
    needsHuman: needsHuman.length,
    bricked: count('bricked'),
    attention: count('attention'),
    stuck: count('stuck'),
    quarantinedRuns: count('quarantined'),
    quarantinedSlots: quarantinedSlots.length,
    cancelled: count('cancelled'),
    unfinished: count('queued') + count('running'),
    successRate: done + finishedBadly === 0 ? null : done / (done + finishedBadly),
    totalAttempts: devices.reduce((sum, row) => sum + row.attempts.length, 0),
    medianDurationSeconds: median(
      devices
        .filter((row) => row.outcome === 'done' && row.durationSeconds !== null)
        .map((row) => row.durationSeconds as number),
    ),
    failuresByClass,
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : Math.round((sorted[middle - 1] + sorted[middle]) / 2);
}
