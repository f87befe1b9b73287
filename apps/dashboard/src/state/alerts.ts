// Alerts the server raised (a slot turned stuck, bricked, attention or quarantined). An alert
// stays until dismissed or until its slot has left the state it was raised for.
import type { AlertMessage, SlotView } from '@bench/events';

/** Enough to see at a glance; older alerts are still on their slots' tiles. */
export const MAX_ALERTS = 20;

/** Newest first; an alert seen twice (e.g. delivered again after a reconnect) is kept once. */
export function addAlert(alerts: readonly AlertMessage[], alert: AlertMessage): AlertMessage[] {
  if (alerts.some((known) => known.id === alert.id)) return [...alerts];
  return [alert, ...alerts].sort((a, b) => b.at - a.at).slice(0, MAX_ALERTS);
}

export function dismissAlert(alerts: readonly AlertMessage[], id: string): AlertMessage[] {
  return alerts.filter((alert) => alert.id !== id);
}

/**
 * Drops alerts whose slot has since moved on to another state (someone handled it). A slot view
 * older than the alert says nothing: the alert may simply have overtaken the slot's update.
 */
export function pruneResolvedAlerts(
  alerts: readonly AlertMessage[],
  slots: Readonly<Record<string, SlotView>>,
): AlertMessage[] {
  const open = alerts.filter((alert) => {
    const slot = slots[alert.slotId];
    return !slot || slot.state === alert.state || slot.updatedAt <= alert.at;
  });
  return open.length === alerts.length ? (alerts as AlertMessage[]) : open;
}
