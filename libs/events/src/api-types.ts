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
  /** The agent's heartbeat is recent (the server's online window); its slots' states are live. */
  online: boolean;
  lastSeenAt: string | null;
  /** When the server worked out `online` (epoch ms): of two views of a host, the later one holds. */
  checkedAt?: number;
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

/**
 * `scheduled` (waiting for its time) → `prefetching` (agents fetch each model's IPSW and ask the
 * signing server) → `running` (its runs restore) → `done`; `paused` holds the runs not yet
 * started; `attention` waits for a person (a build not signed, an IPSW not to be had, an offline
 * host, no phone); `cancelled` at any point before `done`.
 */
export type BatchState =
  'scheduled' | 'prefetching' | 'running' | 'paused' | 'attention' | 'done' | 'cancelled';

export interface BatchProgress {
  /** Runs the batch created. */
  total: number;
  /** Runs per run state (`queued`, `held` while the batch is paused, `running`, `done`, `failed`, `cancelled`). */
  byState: Record<string, number>;
  done: number;
  failed: number;
  cancelled: number;
  /** Queued, held or running. */
  unfinished: number;
  /** Runs that ended needing a person (failed: bricked, attention, stuck, quarantined). */
  needsHuman: number;
  /** Ended runs out of all runs, 0–100. */
  percent: number;
}

/** One host's pre-fetch of one model: what the selector resolved to, and whether it is signed. */
export interface BatchPrefetchView {
  hostId: string;
  productType: string;
  firmware: string;
  build: string | null;
  version: string | null;
  fetched: boolean;
  /** `signed`, `not-signed`, `unreachable` (the signing server did not answer), `error`, `not-checked`. */
  signing: string;
  message: string | null;
  at: string;
}

export interface BatchWarningView {
  at: string;
  /** `build-unsigned` (a queued build stopped being signed), `signing-unreachable`, `prefetch`. */
  kind: string;
  message: string;
  hostId: string | null;
  productType: string | null;
  build: string | null;
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
  /** Slots chosen one by one (benches chosen whole are in benchIds). */
  slotIds: string[];
  /** The retry policy of its runs; null: each bench's own. */
  policy: string | null;
  /** Why it waits (attention), or what it left out (slots without a phone…). */
  message: string | null;
  progress: BatchProgress;
  prefetch: BatchPrefetchView[];
  warnings: BatchWarningView[];
  /** What a manager may do to it now (the server's rules; the dashboard shows these buttons). */
  actions: BatchAction[];
}

export type BatchAction = 'pause' | 'resume' | 'cancel';

/** The one error body every endpoint answers with. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: string[];
}

/**
 * How a run ended, as a report tells it: `done`, or the slot state it left a human to act on
 * (`bricked`, `attention`, `stuck`, `quarantined`), `cancelled`, `failed` (no slot state known),
 * or still `queued` / `running`.
 */
export type RunOutcome =
  'done' | 'bricked' | 'attention' | 'stuck' | 'quarantined' | 'cancelled' | 'failed' | 'queued' | 'running';

export interface ReportAttempt {
  number: number;
  outcome: string;
  failureClass: FailureClass | null;
  message: string | null;
  lastStage: string | null;
  startedAt: string;
  endedAt: string | null;
}

/** One run of one phone in a report (JSON and CSV). Unknown values are null, never invented. */
export interface DeviceReportRow {
  runId: string;
  batchId: string | null;
  ecid: string | null;
  serialNumber: string | null;
  /** ProductType, e.g. iPhone14,2. */
  model: string | null;
  hardwareModel: string | null;
  fromVersion: string | null;
  toVersion: string | null;
  build: string | null;
  /** SHA-256 of the IPSW the phone was restored from, when the agent recorded it. */
  ipswSha256: string | null;
  ipswFile: string | null;
  hostId: string;
  portPath: string;
  /** The slot's label, or its port path when it has none. */
  slot: string;
  operator: string | null;
  behavior: string;
  firmwareSelector: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  attempts: ReportAttempt[];
  outcome: RunOutcome;
  failureClass: FailureClass | null;
  failureMessage: string | null;
}

/** A phone that needs a person, with why and what to do. */
export interface NeedsHumanEntry {
  runId: string;
  ecid: string | null;
  model: string | null;
  slot: string;
  outcome: Extract<RunOutcome, 'bricked' | 'attention' | 'stuck' | 'quarantined' | 'failed'>;
  failureClass: FailureClass | null;
  message: string | null;
  action: string;
}

export interface QuarantinedSlotEntry {
  hostId: string;
  portPath: string;
  slot: string;
  since: string;
  reason: string;
  /** The phones whose transient failures quarantined the port. */
  phones: string[];
  /** Whether the port is still quarantined now (false: a technician cleared it). */
  stillQuarantined: boolean;
}

export interface BatchReportSummary {
  devices: number;
  done: number;
  doneFirstTry: number;
  retried: number;
  needsHuman: number;
  bricked: number;
  attention: number;
  stuck: number;
  quarantinedRuns: number;
  quarantinedSlots: number;
  cancelled: number;
  unfinished: number;
  /** Done out of finished (done, failed), null when nothing finished. */
  successRate: number | null;
  totalAttempts: number;
  medianDurationSeconds: number | null;
  failuresByClass: Partial<Record<FailureClass, number>>;
}

/** The morning report of a batch (GET /batches/:batchId/report.json). */
export interface BatchReport {
  generatedAt: string;
  shop: string;
  batch: {
    id: string;
    name: string;
    firmwareSelector: string;
    behavior: string;
    state: string;
    scheduledAt: string | null;
    createdBy: string | null;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
  };
  summary: BatchReportSummary;
  needsHuman: NeedsHumanEntry[];
  quarantinedSlots: QuarantinedSlotEntry[];
  devices: DeviceReportRow[];
}

/** What a restore certificate states; the signature covers exactly this object (canonical JSON). */
export interface RestoreCertificateBody {
  version: 1;
  shop: string;
  runId: string;
  ecid: string;
  serialNumber: string | null;
  model: string | null;
  hardwareModel: string | null;
  fromVersion: string | null;
  toVersion: string;
  build: string | null;
  ipswSha256: string | null;
  slot: { hostId: string; portPath: string; label: string | null };
  operator: string | null;
  behavior: string;
  startedAt: string | null;
  finishedAt: string;
  outcome: 'done';
  attempts: { number: number; outcome: string; failureClass: FailureClass | null }[];
  issuedAt: string;
  /** Fingerprint of the shop's public key (see docs/reports.md). */
  keyId: string;
}

/** A signed restore certificate (GET /runs/:runId/certificate; `bench verify-certificate FILE`). */
export interface RestoreCertificate {
  certificate: RestoreCertificateBody;
  /** `sha256:<hex>` of the canonical certificate: says "a field changed" apart from "bad signature". */
  digest: string;
  signature: { algorithm: 'Ed25519'; value: string };
}

/**
 * The body a webhook gets for a batch (`batches:` in its config): it waits for a person
 * (`attention`), a build it needs stopped being signed (`warning`), or it ended (`done`).
 */
export interface BatchNoticeBody {
  type: 'batch';
  notice: 'attention' | 'warning' | 'done';
  /** One line for a chat message, starting with the batch's name. */
  message: string;
  at: number;
  batch: {
    id: string;
    name: string;
    state: string;
    firmware: string;
    progress: BatchProgress;
    /** The morning report's path on the server (a manager's session or token opens it). */
    reportPath: string;
  };
}
