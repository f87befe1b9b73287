// Which slot actions make sense in a slot's state. The server decides in the end (it answers an
// ErrorBody when an action does not apply); the drawer shows only the ones that can succeed.
// No confirmation step: a technician acts on a slot in two clicks (tile, action), and the
// destructive power-cycle is not offered while unplugging would harm the phone.
import type { SlotView } from '@bench/events';
import type { DashboardRoute } from '../api/client';
import type { SlotState } from './vocabulary';

export type SlotActionName =
  'start' | 'retry' | 'cancel' | 'pause' | 'resume' | 'power-cycle' | 'clear-quarantine' | 'cable-replaced';

export interface SlotActionSpec {
  name: SlotActionName;
  label: string;
  route: DashboardRoute;
  /** The route's parameter comes from the slot's run rather than the slot. */
  byRun: boolean;
}

export const SLOT_ACTIONS: Record<SlotActionName, SlotActionSpec> = {
  start: { name: 'start', label: 'Start restore', route: 'startRun', byRun: false },
  retry: { name: 'retry', label: 'Retry', route: 'retryRun', byRun: true },
  cancel: { name: 'cancel', label: 'Cancel run', route: 'cancelRun', byRun: true },
  pause: { name: 'pause', label: 'Pause slot', route: 'pauseSlot', byRun: false },
  resume: { name: 'resume', label: 'Resume slot', route: 'resumeSlot', byRun: false },
  'power-cycle': { name: 'power-cycle', label: 'Power-cycle port', route: 'powerCycleSlot', byRun: false },
  'clear-quarantine': {
    name: 'clear-quarantine',
    label: 'Clear quarantine',
    route: 'clearQuarantine',
    byRun: false,
  },
  'cable-replaced': { name: 'cable-replaced', label: 'Cable replaced', route: 'cableReplaced', byRun: false },
};

/** A run is under way: it can be cancelled, not started again. */
const ACTIVE: readonly SlotState[] = ['waiting-power', 'queued', 'restoring', 'reconnecting', 'retrying'];
/** A run ended badly and a human may try it again. */
const RETRYABLE: readonly SlotState[] = ['stuck', 'attention', 'bricked'];
/** A phone is on the port and no run holds it. */
const STARTABLE: readonly SlotState[] = ['idle', 'done', 'attention', 'stuck', 'bricked'];

/** The actions the drawer offers for a slot, in the order shown (the likely one first). */
export function availableActions(slot: SlotView): SlotActionName[] {
  const actions: SlotActionName[] = [];
  const hasRun = Boolean(slot.runId);
  if (slot.state === 'quarantined') actions.push('clear-quarantine');
  if (hasRun && RETRYABLE.includes(slot.state)) actions.push('retry');
  if (STARTABLE.includes(slot.state) && slot.ecid && !(hasRun && RETRYABLE.includes(slot.state)))
    actions.push('start');
  // A stuck slot's run has ended (the ladder is spent and a human is asked): nothing to cancel.
  if (hasRun && ACTIVE.includes(slot.state)) actions.push('cancel');
  actions.push(slot.paused ? 'resume' : 'pause');
  // Cutting power while the phone is being written would leave it half-restored.
  if (!slot.doNotUnplug) actions.push('power-cycle');
  actions.push('cable-replaced');
  return actions;
}
