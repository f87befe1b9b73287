// The shapes the server's REST API returns and the dashboard renders (types only; the server's
// DTO classes implement them, the dashboard imports them as types).
import type { FailureClass, SlotState, Stage } from '@bench/bench-domain';

export type Role = 'technician' | 'manager' | 'admin';

export interface UserView {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
}

export interface LoginResponse {
  token: string;
  user: UserView;
  expiresAt: string;
}

/** One slot as the floor shows it: the record (labels, grid) merged with the live state. */
export interface SlotView {
  id: string;
  hostId: string;
  benchId: string;
  portPath: string;
  label: string | null;
  gridRow: number | null;
  gridCol: number | null;
  state: SlotState;
  ecid?: string;
  runId?: string;
  mode?: string;
  stage?: Stage;
  percent?: number;
  etaSeconds?: number;
  attempt?: number;
  maxAttempts?: number;
  detail?: string;
  queuePosition?: number;
  productType?: string;
  fromVersion?: string;
  toVersion?: string;
  batteryLevel?: number;
  cableScore?: number;
  linkSpeedMbps?: number;
  quarantineReason?: string | null;
  /** Whether pulling the cable now would leave the phone half-written (restoring past its boot chain). */
  doNotUnplug: boolean;
  paused: boolean;
  updatedAt: number;
}

export interface HostView {
  id: string;
  name: string;
  online: boolean;
  lastSeenAt: string | null;
}

export interface BenchView {
  id: string;
  hostId: string;
  name: string;
}

export interface FloorView {
  hosts: HostView[];
  benches: BenchView[];
  slots: SlotView[];
}

export interface AttemptView {
  number: number;
  outcome: string;
  failureClass: FailureClass | null;
  message: string | null;
  lastStage: string | null;
  startMode: string | null;
  evidence: {
    stage?: string;
    lastDeviceMessage?: string;
    statusCode?: number;
    deviceLog?: string;
    detail?: string;
  } | null;
  startedAt: string;
  endedAt: string | null;
}

export interface RunView {
  id: string;
  hostId: string;
  portPath: string;
  slotId: string;
  deviceEcid: string | null;
  firmwareSelector: string;
  behavior: string;
  state: string;
  lastStage: string | null;
  failureClass: FailureClass | null;
  failureMessage: string | null;
  fromVersion: string | null;
  toVersion: string | null;
  operator: string | null;
  batchId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: AttemptView[];
}

export interface EventView {
  id: number;
  at: string;
  kind: string;
  runId: string | null;
  payload: unknown;
}

export interface HealthSampleView {
  at: string;
  batteryLevel: number | null;
  linkSpeedMbps: number | null;
  throughputMBps: number | null;
  usbErrorCount: number | null;
  cableScore: number | null;
  reasons: string[];
}

export interface SlotDetailView {
  slot: SlotView;
  run: RunView | null;
  events: EventView[];
  health: HealthSampleView[];
  /** How to put this phone's model in DFU, when a technician must. */
  dfuButtons?: string;
}

export interface SummaryView {
  countsByState: Partial<Record<SlotState, number>>;
  restoresPerHour: number;
  successRate: number | null;
  finishedRuns: number;
  failuresByClass: Partial<Record<FailureClass, number>>;
  failuresByPort: { hostId: string; portPath: string; label: string | null; failures: number }[];
  cableWarnings: {
    hostId: string;
    portPath: string;
    label: string | null;
    cableScore: number;
    reasons: string[];
  }[];
}

/** An IPSW in the firmware library (the cache the agents restore from). */
export interface FirmwareView {
  fileName: string;
  build: string | null;
  version: string | null;
  productTypes: string[];
  sizeBytes: number;
  sha1: string | null;
  sha256: string | null;
  url: string | null;
  /** Whether Apple still signs the build (from the catalog); null when the catalog did not answer. */
  signed: boolean | null;
  lastUsed: string;
  /** Why the file could not be read as an IPSW, when it cannot. */
  problem?: string;
}

export interface BatchView {
  id: string;
  name: string;
  firmwareSelector: string;
  behavior: string;
  state: string;
  benchIds: string[];
  scheduledAt: string | null;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** How many of its runs are in each run state. */
  runStates: Record<string, number>;
}

/** The one error body every endpoint answers with. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: string[];
}
