// View-model of the slot drawer: a one-line summary per recorded event, the device-log excerpt
// and the health sparkline's geometry. Event payloads are the recorded stream events (unknown to
// the type system here), so every field is read defensively.
import type { EventView, HealthSampleView, SlotDetailView, SlotView } from '@bench/events';
import type { SlotState } from './vocabulary';

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The restore engine's event inside a `restore.*` record, or the record itself. */
function innerEvent(event: EventView): unknown {
  return field(event.payload, 'event') ?? event.payload;
}

export interface TimelineEntry {
  id: number;
  at: string;
  kind: string;
  summary: string;
  /** Worth a second look: a failure, a warning, a quarantine. */
  severity: 'info' | 'warning' | 'error';
}

export function describeEvent(event: EventView): TimelineEntry {
  const payload = event.payload;
  const inner = innerEvent(event);
  const parts: string[] = [];
  let severity: TimelineEntry['severity'] = 'info';
  const add = (value: string | undefined) => value && parts.push(value);
  switch (event.kind) {
    case 'slot.state':
      add(text(field(payload, 'state')));
      add(text(field(payload, 'detail')));
      break;
    case 'attempt.started':
      add(`attempt ${String(field(payload, 'number') ?? '?')}`);
      add(text(field(payload, 'startMode')) && `from ${text(field(payload, 'startMode'))}`);
      break;
    case 'attempt.ended':
    case 'run.ended':
    case 'restore.failed': {
      const outcome = text(field(payload, 'outcome')) ?? text(field(payload, 'state'));
      const failureClass = text(field(inner, 'failureClass'));
      add(event.kind === 'attempt.ended' ? `attempt ${String(field(payload, 'number') ?? '?')}` : undefined);
      add(outcome);
      add(failureClass);
      add(text(field(inner, 'message')));
      if (failureClass && failureClass !== 'cancelled') severity = 'error';
      break;
    }
    case 'restore.warning':
      add(text(field(inner, 'message')));
      severity = 'warning';
      break;
    case 'port.quarantined':
      add(text(field(payload, 'reason')));
      severity = 'error';
      break;
    default:
      add(text(field(inner, 'stage')));
      add(text(field(inner, 'mode')));
      add(text(field(inner, 'message')) ?? text(field(inner, 'detail')));
  }
  return { id: event.id, at: event.at, kind: event.kind, summary: parts.join(' · '), severity };
}

/** Newest first, as a technician reads a timeline when something just went wrong. */
export function timeline(events: readonly EventView[], limit = 200): TimelineEntry[] {
  return [...events]
    .filter((event) => event.kind !== 'restore.progress' && event.kind !== 'health.sample')
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || b.id - a.id)
    .slice(0, limit)
    .map(describeEvent);
}

/**
 * The last lines the phone logged: the failed attempt's evidence when there is one (it is what
 * classified the failure), else the device-log lines recorded during the run.
 */
export function deviceLogExcerpt(detail: SlotDetailView, maxLines = 40): string {
  const attempts = detail.run?.attempts ?? [];
  const evidence = [...attempts].reverse().find((attempt) => attempt.evidence?.deviceLog)
    ?.evidence?.deviceLog;
  const recorded = detail.events
    .filter((event) => event.kind === 'restore.device-log')
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id)
    .map((event) => text(field(innerEvent(event), 'text')))
    .filter((line): line is string => line !== undefined)
    .join('\n');
  const lines = (evidence ?? recorded).split('\n').filter((line) => line.trim().length > 0);
  return lines.slice(-maxLines).join('\n');
}

export type HealthMetric = 'cableScore' | 'batteryLevel';

/** Oldest first, the metric's values (null where the sample did not measure it). */
export function healthSeries(samples: readonly HealthSampleView[], metric: HealthMetric): (number | null)[] {
  return [...samples].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).map((sample) => sample[metric]);
}

/**
 * SVG polyline points for values on a 0..100 scale: x spreads the samples over the width, y is
 * inverted (100 at the top). Missing samples break the line into separate segments.
 */
export function sparklineSegments(
  values: readonly (number | null)[],
  width: number,
  height: number,
): string[] {
  if (values.length === 0) return [];
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const segments: string[] = [];
  let current: string[] = [];
  values.forEach((value, index) => {
    if (value === null || !Number.isFinite(value)) {
      if (current.length > 0) segments.push(current.join(' '));
      current = [];
      return;
    }
    const clamped = Math.min(100, Math.max(0, value));
    const x = values.length > 1 ? index * step : width / 2;
    const y = height - (clamped / 100) * height;
    current.push(`${round(x)},${round(y)}`);
  });
  if (current.length > 0) segments.push(current.join(' '));
  return segments;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Slot states the agent shows only once the slot's run has ended. */
const RUN_ENDED: readonly SlotState[] = ['done', 'stuck', 'bricked', 'attention'];

/**
 * Whether a drawer's records lag behind the live slot: the floor hears the agent at once, while
 * the run and its attempts are recorded a moment later (the server's recorder reads another
 * stream). A detail read in between shows the slot's run still going when the tile already says
 * how it ended; the drawer reads it again until the records catch up.
 */
export function detailLagsBehind(slot: SlotView, detail: SlotDetailView): boolean {
  const run = detail.run;
  return (
    detail.slot.id === slot.id &&
    run !== null &&
    run.id === slot.runId &&
    RUN_ENDED.includes(slot.state) &&
    (run.state === 'queued' || run.state === 'running')
  );
}
