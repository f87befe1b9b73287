// Alerts the server raised, as a strip under the header: visible from across the room, one
// click opens the slot, one click dismisses.
import type { AlertMessage } from '@bench/events';
import { formatClock } from '../state/presentation';
import { StateBadge } from './StateBadge';

export interface AlertsProps {
  alerts: AlertMessage[];
  onOpen: (slotId: string) => void;
  onDismiss: (id: string) => void;
}

export function Alerts({ alerts, onOpen, onDismiss }: AlertsProps) {
  return (
    <section class={`alerts${alerts.length === 0 ? ' none' : ''}`} data-testid="alerts" aria-live="assertive">
      {alerts.map((alert) => (
        <div
          key={alert.id}
          class="alert-item"
          data-testid="alert-item"
          data-slot-id={alert.slotId}
          data-state={alert.state}
          role="alert"
        >
          <button class="alert-open" onClick={() => onOpen(alert.slotId)}>
            <strong>{alert.label ?? alert.portPath}</strong>
            <StateBadge state={alert.state} />
            <span class="alert-message">{alert.message}</span>
            <time class="muted">{formatClock(alert.at)}</time>
          </button>
          <button class="alert-dismiss" onClick={() => onDismiss(alert.id)} aria-label="dismiss alert">
            ✕
          </button>
        </div>
      ))}
    </section>
  );
}
