// Record rows and live slots → the API's views (@bench/events api-types). Pure functions.
import {
  FAILURE_CLASSES,
  isOneOf,
  SLOT_STATES,
  STAGES,
  unplugWouldHarm,
  type FailureClass,
  type SlotState,
} from '@bench/bench-domain';
import type { AttemptView, EventView, HealthSampleView, RunView, SlotView } from '@bench/events';
import type { LiveSlot } from '@bench/jobs';
import type { SlotRow } from '../live/slot-directory';

/** A host is online while its agent's heartbeat (every 5 s) is this recent. */
export const HOST_ONLINE_MS = 20_000;

function failureClass(value: string | null | undefined): FailureClass | null {
  return isOneOf(FAILURE_CLASSES, value) ? value : null;
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function slotView(row: SlotRow, live: LiveSlot | undefined): SlotView {
  const state: SlotState = live?.state ?? (isOneOf(SLOT_STATES, row.state) ? row.state : 'empty');
  const stage = live?.stage && isOneOf(STAGES, live.stage) ? live.stage : undefined;
  return {
    id: row.id,
    hostId: row.hostId,
    benchId: row.benchId,
    portPath: row.portPath,
    label: row.label ?? live?.label ?? null,
    gridRow: row.gridRow,
    gridCol: row.gridCol,
    state,
    ecid: live ? live.ecid : (row.deviceEcid ?? undefined),
    runId: live ? live.runId : (row.runId ?? undefined),
    mode: live?.mode,
    stage,
    percent: live?.percent,
    etaSeconds: live?.etaSeconds,
    attempt: live?.attempt,
    maxAttempts: live?.maxAttempts,
    detail: live ? live.detail : (row.detail ?? undefined),
    queuePosition: live?.queuePosition,
    productType: live?.productType,
    fromVersion: live?.fromVersion,
    toVersion: live?.toVersion,
    batteryLevel: live?.batteryLevel,
    cableScore: live?.cableScore,
    linkSpeedMbps: live?.linkSpeedMbps,
    quarantineReason: state === 'quarantined' ? (row.quarantineReason ?? live?.detail ?? null) : null,
    doNotUnplug: unplugWouldHarm(state, stage),
    paused: live?.paused ?? false,
    updatedAt: live?.updatedAt ?? 0,
  };
}

export interface AttemptRow {
  number: number;
  outcome: string;
  failureClass: string | null;
  message: string | null;
  lastStage: string | null;
  startMode: string | null;
  evidence: string | null;
  startedAt: Date;
  endedAt: Date | null;
}

export function attemptView(row: AttemptRow): AttemptView {
  const evidence = parseJson(row.evidence);
  return {
    number: row.number,
    outcome: row.outcome,
    failureClass: failureClass(row.failureClass),
    message: row.message,
    lastStage: row.lastStage,
    startMode: row.startMode,
    evidence: evidence && typeof evidence === 'object' ? (evidence as AttemptView['evidence']) : null,
    startedAt: row.startedAt.toISOString(),
    endedAt: row.endedAt?.toISOString() ?? null,
  };
}

export interface RunRow {
  id: string;
  hostId: string;
  portPath: string;
  slotId: string;
  deviceEcid: string | null;
  firmwareSelector: string;
  behavior: string;
  state: string;
  lastStage: string | null;
  failureClass: string | null;
  failureMessage: string | null;
  fromVersion: string | null;
  toVersion: string | null;
  operator: string | null;
  batchId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  attempts?: AttemptRow[];
}

export function runView(row: RunRow): RunView {
  return {
    id: row.id,
    hostId: row.hostId,
    portPath: row.portPath,
    slotId: row.slotId,
    deviceEcid: row.deviceEcid,
    firmwareSelector: row.firmwareSelector,
    behavior: row.behavior,
    state: row.state,
    lastStage: row.lastStage,
    failureClass: failureClass(row.failureClass),
    failureMessage: row.failureMessage,
    fromVersion: row.fromVersion,
    toVersion: row.toVersion,
    operator: row.operator,
    batchId: row.batchId,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    attempts: (row.attempts ?? []).map(attemptView),
  };
}

export function eventView(row: {
  id: number;
  at: Date;
  kind: string;
  runId: string | null;
  payload: string | null;
}): EventView {
  return {
    id: row.id,
    at: row.at.toISOString(),
    kind: row.kind,
    runId: row.runId,
    payload: parseJson(row.payload),
  };
}

export function healthView(row: {
  at: Date;
  batteryLevel: number | null;
  linkSpeedMbps: number | null;
  throughputMBps: number | null;
  usbErrorCount: number | null;
  cableScore: number | null;
  details: string | null;
}): HealthSampleView {
  const details = parseJson(row.details);
  const reasons =
    details && typeof details === 'object' && Array.isArray((details as { reasons?: unknown }).reasons)
      ? (details as { reasons: unknown[] }).reasons.filter((r): r is string => typeof r === 'string')
      : [];
  return {
    at: row.at.toISOString(),
    batteryLevel: row.batteryLevel,
    linkSpeedMbps: row.linkSpeedMbps,
    throughputMBps: row.throughputMBps,
    usbErrorCount: row.usbErrorCount,
    cableScore: row.cableScore,
    reasons,
  };
}
