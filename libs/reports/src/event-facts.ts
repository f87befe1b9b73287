// What the event log adds to a run's row: the firmware the engine chose, the build the phone
// came back with, the IPSW's hash, the iOS version the phone had before, and the slot state the
// run left behind. Payloads are whatever an agent of any version recorded, so every field is
// read defensively: a missing or odd field is "unknown", never a crash.
import type { IpswRecord, RunOutcome } from '@bench/events';
import type { EventRecord, RunRecord } from './records';

export interface RunFacts {
  /** The firmware the engine opened for the last attempt that got that far. */
  target?: { version: string; build: string };
  /** What the phone reported after the restore (attempt ended done). */
  verified?: { productVersion?: string; buildVersion?: string };
  ipsw?: IpswRecord;
  /** iOS version the phone ran before the run's first attempt (normal-mode sighting). */
  fromVersion?: string;
  productType?: string;
  /** The slot state the run ended in (bricked, attention, stuck, quarantined, done). */
  endState?: RunOutcome;
}

export interface EventIndex {
  byRun: Map<string, EventRecord[]>;
  sightingsByEcid: Map<string, EventRecord[]>;
}

const END_STATES: readonly RunOutcome[] = ['done', 'bricked', 'attention', 'stuck', 'quarantined'];

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(fields: Fields | undefined, key: string): string | undefined {
  const value = fields?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function child(fields: Fields | undefined, key: string): Fields | undefined {
  const value = fields?.[key];
  return isFields(value) ? value : undefined;
}

/** ECIDs compare as 16 upper-case hex digits (records may carry `0x…` or fewer digits). */
export function normalEcid(ecid: string): string {
  return ecid.trim().replace(/^0x/i, '').toUpperCase().padStart(16, '0');
}

export function indexEvents(events: readonly EventRecord[]): EventIndex {
  const byRun = new Map<string, EventRecord[]>();
  const sightingsByEcid = new Map<string, EventRecord[]>();
  const ordered = [...events].sort((a, b) => a.id - b.id);
  for (const event of ordered) {
    if (event.runId) {
      const list = byRun.get(event.runId) ?? [];
      list.push(event);
      byRun.set(event.runId, list);
    }
    if (event.kind === 'device.seen') {
      const ecid = text(child(isFields(event.payload) ? event.payload : undefined, 'device'), 'ecid');
      const key = ecid ?? event.deviceEcid;
      if (!key) continue;
      const list = sightingsByEcid.get(normalEcid(key)) ?? [];
      list.push(event);
      sightingsByEcid.set(normalEcid(key), list);
    }
  }
  return { byRun, sightingsByEcid };
}

export function runFacts(run: RunRecord, index: EventIndex): RunFacts {
  const facts: RunFacts = {};
  for (const event of index.byRun.get(run.id) ?? []) {
    const payload = isFields(event.payload) ? event.payload : undefined;
    switch (event.kind) {
      case 'restore.firmware': {
        const firmware = child(payload, 'event');
        const version = text(firmware, 'version');
        const build = text(firmware, 'build');
        if (version && build) facts.target = { version, build };
        break;
      }
      case 'attempt.ended': {
        if (text(payload, 'outcome') !== 'done') break;
        facts.verified = {
          productVersion: text(payload, 'productVersion'),
          buildVersion: text(payload, 'buildVersion'),
        };
        const ipsw = ipswOf(child(payload, 'ipsw'));
        if (ipsw) facts.ipsw = ipsw;
        break;
      }
      case 'slot.state': {
        const state = text(payload, 'state');
        if (state && (END_STATES as readonly string[]).includes(state)) facts.endState = state as RunOutcome;
        break;
      }
    }
  }
  Object.assign(facts, before(run, index));
  return facts;
}

function ipswOf(fields: Fields | undefined): IpswRecord | undefined {
  const sha256 = text(fields, 'sha256');
  const fileName = text(fields, 'fileName');
  const sizeBytes = fields?.sizeBytes;
  if (!sha256 || !/^[0-9a-f]{64}$/i.test(sha256) || !fileName || typeof sizeBytes !== 'number')
    return undefined;
  return { sha256: sha256.toLowerCase(), fileName, sizeBytes };
}

/** What the phone was before the run: the last sighting before its first attempt began. */
function before(run: RunRecord, index: EventIndex): Pick<RunFacts, 'fromVersion' | 'productType'> {
  if (!run.deviceEcid) return {};
  const firstAttempt = run.attempts[0]?.startedAt ?? run.startedAt ?? run.finishedAt;
  const limit = firstAttempt?.getTime() ?? Number.POSITIVE_INFINITY;
  const result: Pick<RunFacts, 'fromVersion' | 'productType'> = {};
  for (const event of index.sightingsByEcid.get(normalEcid(run.deviceEcid)) ?? []) {
    const device = child(isFields(event.payload) ? event.payload : undefined, 'device');
    const productType = text(device, 'productType');
    if (productType) result.productType = productType;
    if (event.at.getTime() > limit) continue;
    const version = text(device, 'productVersion');
    if (version) result.fromVersion = version;
  }
  return result;
}
