// What agents tell the rest of bench, on one Redis stream (`bench:events`). The server's recorder
// is the single writer of the database: it consumes this stream (consumer group, acknowledged
// after the write, deduplicated by stream id), so an agent keeps restoring while the database is
// down and a record is never written twice. Types only (the dashboard imports this library).
import type {
  DeviceMode,
  FailureClass,
  FailureEvidence,
  RestoreBehavior,
  RestoreEvent,
  SlotState,
  Stage,
} from '@bench/bench-domain';

export const EVENT_STREAM = 'bench:events';

export interface SlotRef {
  hostId: string;
  portPath: string;
}

export interface DeviceIdentityRecord {
  ecid: string;
  udid?: string;
  serialNumber?: string;
  productType?: string;
  productVersion?: string;
  buildVersion?: string;
  chipId?: number;
  boardId?: number;
}

/** An IPSW as a record names it: its file and SHA-256 (from the firmware cache's record or hashed once). */
export interface IpswRecord {
  fileName: string;
  sizeBytes: number;
  sha256: string;
}

export interface TopologyRecord {
  id: string;
  name: string;
  slots: { portPath: string; label?: string; gridRow?: number; gridCol?: number }[];
}

export type BenchRecordEvent =
  /** An agent is alive (every few seconds). */
  | { kind: 'host.heartbeat'; hostId: string; at: number; ports: number }
  /** An agent started: its benches and slots (configured, simulated and discovered). */
  | { kind: 'host.topology'; hostId: string; at: number; benches: TopologyRecord[] }
  /** What the floor sees for a slot changed. */
  | ({
      kind: 'slot.state';
      at: number;
      state: SlotState;
      ecid?: string;
      runId?: string;
      detail?: string;
      queuePosition?: number;
    } & SlotRef)
  /** A phone was seen on a port (any mode). */
  | ({ kind: 'device.seen'; at: number; mode: DeviceMode; device: DeviceIdentityRecord } & SlotRef)
  | ({ kind: 'device.left'; at: number; ecid?: string } & SlotRef)
  /** A slot with auto-start saw a phone that has no run yet: the server creates one. */
  | ({
      kind: 'autostart.request';
      at: number;
      ecid: string;
      firmwareSelector: string;
      behavior: RestoreBehavior;
      policy: string;
    } & SlotRef)
  | ({
      kind: 'attempt.started';
      at: number;
      runId: string;
      number: number;
      ecid: string;
      startMode?: DeviceMode;
    } & SlotRef)
  | ({ kind: 'restore.event'; runId: string; attempt: number; event: RestoreEvent } & SlotRef)
  | ({
      kind: 'attempt.ended';
      at: number;
      runId: string;
      number: number;
      outcome: 'done' | 'failed';
      failureClass?: FailureClass;
      message?: string;
      evidence?: FailureEvidence;
      lastStage?: Stage;
      productVersion?: string;
      buildVersion?: string;
      /** The IPSW this attempt restored from (reports and restore certificates name its hash). */
      ipsw?: IpswRecord;
    } & SlotRef)
  | ({
      kind: 'run.ended';
      at: number;
      runId: string;
      state: 'done' | 'failed' | 'cancelled';
      failureClass?: FailureClass;
      message?: string;
    } & SlotRef)
  | ({
      kind: 'health.sample';
      at: number;
      ecid?: string;
      batteryLevel?: number;
      charging?: boolean;
      linkSpeedMbps?: number;
      throughputMBps?: number;
      attachCount: number;
      detachCount: number;
      usbErrorCount: number;
      cableScore: number;
      reasons: string[];
    } & SlotRef)
  | ({ kind: 'port.quarantined'; at: number; reason: string; phones: string[] } & SlotRef)
  /** An operator's action carried out (or refused) by the agent that owns the port. */
  | ({
      kind: 'operator.action';
      at: number;
      action: 'cancel' | 'pause' | 'resume' | 'power-cycle' | 'clear-quarantine';
      by: string;
      runId?: string;
      outcome: 'done' | 'refused';
      message?: string;
      cableReplaced?: boolean;
    } & SlotRef)
  /**
   * A batch's warning, raised by the server that checked (e.g. a queued build stopped being
   * signed); `hostId` is the host whose agent reported it.
   */
  | {
      kind: 'batch.warning';
      at: number;
      hostId: string;
      batchId: string;
      warning: string;
      message: string;
      productType?: string;
      build?: string;
    };

export type BenchRecordKind = BenchRecordEvent['kind'];
