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
import type { AttemptView, EventView, HealthSampleView, HostView, RunView, SlotView } from '@bench/events';
import { HOST_ONLINE_MS, type LiveSlot } from '@bench/jobs';
import type { SlotRow } from '../live/slot-directory';

/**
 * A host is online while its agent's heartbeat (every 5 s, HEARTBEAT_MS in the agent) is this
 * recent. Four beats' worth: a busy agent or a Redis hiccup may delay a beat or two without the
 * floor flapping. How soon a dead agent shows offline, by construction: its last beat was at most
 * 5 s before it died, so it is offline 15–20 s after; each server re-reads the hosts every
 * HOST_WATCH_MS (LiveRelayService) and tells its browsers at once, so a dashboard shows the host
 * offline at most ≈ 25 s after the agent stopped (the acceptance bound is 30 s). Do not
 * shorten without reason: below two beats a single late beat marks a healthy host offline.
 * Agent and server compare wall clocks (the beat carries the agent's Date.now()): bench PCs are
 * expected to keep NTP time.
 */
export { HOST_ONLINE_MS };

/** How often each server re-reads the heartbeats and tells its browsers which hosts changed. */
export const HOST_WATCH_MS = 5_000;

export interface HostRow {
  id: string;
  name: string;
  lastSeenAt: Date | null;
}

/**
 * Every host the record knows and every host whose agent heartbeats (the recorder writes a
 * heartbeating host to the record, but a moment later, or never while the database is down):
 * an agent that the config does not list still shows. The server's config may name a host;
 * otherwise its record name (the host id) is used.
 */
export function hostViews(
  rows: readonly HostRow[],
  beats: Readonly<Record<string, number>>,
  now: number,
  configuredNames: Readonly<Record<string, string>> = {},
): HostView[] {
  const byId = new Map<string, HostRow>(rows.map((row) => [row.id, row]));
  for (const id of Object.keys(beats)) if (!byId.has(id)) byId.set(id, { id, name: id, lastSeenAt: null });
  return [...byId.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((host) => {
      const beat = beats[host.id];
      const lastSeen = beat ?? host.lastSeenAt?.getTime();
      return {
        id: host.id,
        name: configuredNames[host.id] ?? host.name,
        online: beat !== undefined && now - beat < HOST_ONLINE_MS,
        lastSeenAt: lastSeen !== undefined ? new Date(lastSeen).toISOString() : null,
        checkedAt: now,
      };
    });
}

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
