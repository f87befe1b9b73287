// The bench vocabulary as the dashboard needs it. The dashboard may import only @bench/events, so
// the names are derived from its DTO types. The UI shows these names verbatim: the same words
// are used in code, API, CLI, docs and on the floor (docs/architecture.md §2).
import type { AttemptView, SlotProgress, SlotView } from '@bench/events';

export type SlotState = SlotView['state'];
export type Stage = SlotProgress['stage'];
export type FailureClass = NonNullable<AttemptView['failureClass']>;

/** The states a technician must act on, most urgent first. */
export const NEEDS_ME_STATES = [
  'bricked',
  'stuck',
  'attention',
  'quarantined',
] as const satisfies readonly SlotState[];
export type NeedsMeState = (typeof NEEDS_ME_STATES)[number];

export function needsMe(state: SlotState): state is NeedsMeState {
  return (NEEDS_ME_STATES as readonly SlotState[]).includes(state);
}
