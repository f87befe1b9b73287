import type { AlertMessage } from '@bench/events';
import { addAlert, dismissAlert, MAX_ALERTS, pruneResolvedAlerts } from './alerts';
import { slotView } from './slot-view.fixture';

function alert(id: string, at: number, overrides: Partial<AlertMessage> = {}): AlertMessage {
  return {
    id,
    slotId: 's1',
    hostId: 'h',
    portPath: 'p',
    label: 'A1',
    state: 'stuck',
    message: 'no progress',
    at,
    ...overrides,
  };
}

describe('alerts', () => {
  it('keeps alerts newest first, once each, at most MAX_ALERTS', () => {
    let alerts: AlertMessage[] = [];
    alerts = addAlert(alerts, alert('1', 100));
    alerts = addAlert(alerts, alert('2', 300));
    alerts = addAlert(alerts, alert('3', 200));
    alerts = addAlert(alerts, alert('2', 300));
    expect(alerts.map((a) => a.id)).toEqual(['2', '3', '1']);
    for (let i = 0; i < MAX_ALERTS + 5; i++) alerts = addAlert(alerts, alert(`n${i}`, 1000 + i));
    expect(alerts).toHaveLength(MAX_ALERTS);
    expect(alerts[0].id).toBe(`n${MAX_ALERTS + 4}`);
  });

  it('dismisses by id', () => {
    expect(dismissAlert([alert('1', 1), alert('2', 2)], '1').map((a) => a.id)).toEqual(['2']);
  });

  it('drops an alert once its slot has moved on, but not because of a slot view older than the alert', () => {
    const alerts = [
      alert('handled', 100, { slotId: 'a', state: 'stuck' }),
      alert('overtook', 500, { slotId: 'b', state: 'bricked' }),
      alert('open', 100, { slotId: 'c', state: 'attention' }),
      alert('unknown-slot', 100, { slotId: 'zz' }),
    ];
    const slots = {
      a: slotView({ id: 'a', state: 'retrying', updatedAt: 200 }),
      b: slotView({ id: 'b', state: 'restoring', updatedAt: 400 }),
      c: slotView({ id: 'c', state: 'attention', updatedAt: 900 }),
    };
    expect(pruneResolvedAlerts(alerts, slots).map((a) => a.id)).toEqual(['overtook', 'open', 'unknown-slot']);
  });

  it('returns the same list when nothing was resolved (no needless re-render)', () => {
    const alerts = [alert('1', 100, { slotId: 'a' })];
    expect(pruneResolvedAlerts(alerts, { a: slotView({ id: 'a', state: 'stuck', updatedAt: 50 }) })).toBe(
      alerts,
    );
  });
});
