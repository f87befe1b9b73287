// How each value looks on the floor. A state is always shown three ways (colour, icon and word) so
// it reads for colour-blind technicians and from across the room.
import { needsMe, type SlotState } from './vocabulary';

export type IconName =
  | 'empty'
  | 'phone'
  | 'plug'
  | 'hourglass'
  | 'download'
  | 'link'
  | 'retry'
  | 'clock-alert'
  | 'skull'
  | 'warning'
  | 'check'
  | 'lock'
  | 'host-offline';

export interface StatePresentation {
  word: string;
  icon: IconName;
  /** Text, border and tint colour, each readable on the dark theme's tiles. */
  colour: string;
  /** Needs a human: a strong border and listed first under "needs me". */
  standOut: boolean;
}

// The word is the state's name itself (the shared vocabulary).
const STATES: Record<SlotState, Omit<StatePresentation, 'standOut' | 'word'>> = {
  empty: { icon: 'empty', colour: '#8a93a3' },
  idle: { icon: 'phone', colour: '#7fa3de' },
  'waiting-power': { icon: 'plug', colour: '#c9b24a' },
  queued: { icon: 'hourglass', colour: '#a497e8' },
  restoring: { icon: 'download', colour: '#3aa3ff' },
  reconnecting: { icon: 'link', colour: '#2cc4c4' },
  retrying: { icon: 'retry', colour: '#e59a3a' },
  stuck: { icon: 'clock-alert', colour: '#f2b705' },
  bricked: { icon: 'skull', colour: '#e5383b' },
  attention: { icon: 'warning', colour: '#ff7b1c' },
  done: { icon: 'check', colour: '#3fc165' },
  quarantined: { icon: 'lock', colour: '#c04fd8' },
};

/**
 * A slot whose host is offline: not a slot state (the agent's last report is kept as the last
 * known state) but how the floor shows the slot while nobody reports on it. Grey, like nothing
 * live; the word says why.
 */
export const HOST_OFFLINE_LOOK = { word: 'host offline', icon: 'host-offline', colour: '#8b95a5' } as const;

/** States in which a stage and progress are worth showing. */
const SHOWS_PROGRESS: readonly SlotState[] = ['restoring', 'reconnecting', 'retrying', 'stuck'];

export function showsProgress(state: SlotState): boolean {
  return SHOWS_PROGRESS.includes(state);
}

/**
 * What else was known of a slot whose host went offline, after its state: "send-filesystem 40% ·
 * attempt 1/3" (stage and progress only where the state shows them on a live tile).
 */
export function formatLastKnownDetail(slot: {
  state: SlotState;
  stage?: string;
  percent?: number;
  attempt?: number;
  maxAttempts?: number;
}): string {
  const stage = showsProgress(slot.state)
    ? [slot.stage, formatPercent(slot.percent)].filter(Boolean).join(' ')
    : '';
  return [stage, formatAttempt(slot.attempt, slot.maxAttempts)].filter(Boolean).join(' · ');
}

/** Every slot state, in the order the header counts them. */
export const SLOT_STATES = Object.keys(STATES) as SlotState[];

export function presentState(state: SlotState): StatePresentation {
  // A state newer than this build still shows its word rather than breaking the tile.
  const look = Object.hasOwn(STATES, state) ? STATES[state] : { icon: 'warning' as const, colour: '#8a8f98' };
  return { word: state, ...look, standOut: needsMe(state) };
}

export type CableLevel = 'good' | 'worn' | 'bad';

export interface CableBadge {
  level: CableLevel;
  word: string;
  score: number;
}

/** Cable health from its 0..100 score: good ≥ 80, worn 50–79, bad < 50. */
export function cableBadge(score: number | null | undefined): CableBadge | null {
  if (score === null || score === undefined || !Number.isFinite(score)) return null;
  const rounded = Math.round(score);
  if (rounded >= 80) return { level: 'good', word: 'cable good', score: rounded };
  if (rounded >= 50) return { level: 'worn', word: 'cable worn', score: rounded };
  return { level: 'bad', word: 'cable bad', score: rounded };
}

/** Remaining time as a person reads it from afar: "45 s", "12 min", "1 h 05 min". */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.round(whole / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A progress value clamped to 0..100 (a bar never overflows its track). */
export function clampPercent(percent: number | null | undefined): number | null {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) return null;
  return Math.min(100, Math.max(0, percent));
}

export function formatPercent(percent: number | null | undefined): string {
  const clamped = clampPercent(percent);
  return clamped === null ? '' : `${Math.floor(clamped)}%`;
}

export function formatVersions(from: string | undefined, to: string | undefined): string {
  if (from && to) return from === to ? `iOS ${to}` : `iOS ${from} → ${to}`;
  if (to) return `→ iOS ${to}`;
  if (from) return `iOS ${from}`;
  return '';
}

export function formatAttempt(attempt: number | undefined, maxAttempts: number | undefined): string {
  if (!attempt) return '';
  return maxAttempts ? `attempt ${attempt}/${maxAttempts}` : `attempt ${attempt}`;
}

export type BatteryLevel = 'ok' | 'low' | 'critical';

export function batteryLevel(percent: number | undefined): BatteryLevel | null {
  if (percent === undefined || !Number.isFinite(percent)) return null;
  if (percent < 10) return 'critical';
  if (percent < 25) return 'low';
  return 'ok';
}

/** A 0..1 fraction (SummaryView.successRate) as a whole percentage. */
export function formatRate(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : `${Math.round(value * 100)}%`;
}

export function formatClock(at: string | number): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return '';
  return date.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
}
