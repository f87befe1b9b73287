// What the reports are built from: the record as the database keeps it (runs with their attempts,
// devices, slots, the event log), as plain values. Prisma rows fit these shapes as they are, so
// persistence hands them over without a copy and this library never sees a database.

export interface AttemptRecord {
  number: number;
  outcome: string;
  failureClass: string | null;
  message: string | null;
  lastStage: string | null;
  startedAt: Date;
  endedAt: Date | null;
}

export interface RunRecord {
  id: string;
  batchId: string | null;
  slotId: string;
  hostId: string;
  portPath: string;
  deviceEcid: string | null;
  firmwareSelector: string;
  behavior: string;
  state: string;
  lastStage: string | null;
  failureClass: string | null;
  failureMessage: string | null;
  fromVersion: string | null;
  toVersion: string | null;
  firmwareBuild: string | null;
  operator: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  attempts: AttemptRecord[];
}

export interface DeviceRecord {
  ecid: string;
  serialNumber: string | null;
  productType: string | null;
  hardwareModel: string | null;
}

export interface SlotRecord {
  id: string;
  hostId: string;
  benchId: string;
  portPath: string;
  label: string | null;
  quarantinedAt: Date | null;
  quarantineReason: string | null;
}

/** A row of the append-only event log; `payload` is the recorded event, parsed from JSON. */
export interface EventRecord {
  id: number;
  at: Date;
  kind: string;
  runId: string | null;
  slotId: string | null;
  deviceEcid: string | null;
  payload: unknown;
}

export interface BatchRecord {
  id: string;
  name: string;
  firmwareSelector: string;
  behavior: string;
  state: string;
  scheduledAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Runs and what surrounds them: the devices, slots and events a report needs. */
export interface RunsRecords {
  runs: RunRecord[];
  devices: DeviceRecord[];
  slots: SlotRecord[];
  events: EventRecord[];
}

export interface BatchRecords extends RunsRecords {
  batch: BatchRecord;
}
