import { availableActions } from './actions';
import { slotView } from './slot-view.fixture';

describe('availableActions', () => {
  it('offers retry (not start) for a stuck, attention or bricked slot with a run', () => {
    for (const state of ['stuck', 'attention', 'bricked'] as const) {
      const actions = availableActions(slotView({ id: 'a', state, runId: 'r1', ecid: 'E1' }));
      expect(actions).toContain('retry');
      expect(actions).not.toContain('start');
      expect(actions).not.toContain('clear-quarantine');
      // The run ended (the server answers 409 to a cancel): retry, not cancel.
      expect(actions).not.toContain('cancel');
    }
  });

  it('offers start for a phone without a run, and nothing run-related for an empty port', () => {
    expect(availableActions(slotView({ id: 'a', state: 'idle', ecid: 'E1' }))).toEqual(
      expect.arrayContaining(['start']),
    );
    const empty = availableActions(slotView({ id: 'a', state: 'empty' }));
    expect(empty).not.toContain('start');
    expect(empty).not.toContain('retry');
    expect(empty).not.toContain('cancel');
  });

  it('offers cancel while a run is under way, and never power-cycle while unplugging would harm the phone', () => {
    const restoring = availableActions(
      slotView({ id: 'a', state: 'restoring', runId: 'r1', ecid: 'E1', doNotUnplug: true }),
    );
    expect(restoring).toContain('cancel');
    expect(restoring).not.toContain('power-cycle');
    expect(restoring).not.toContain('start');
    const early = availableActions(
      slotView({ id: 'a', state: 'restoring', runId: 'r1', doNotUnplug: false }),
    );
    expect(early).toContain('power-cycle');
  });

  it('offers clear-quarantine for a quarantined slot', () => {
    expect(availableActions(slotView({ id: 'a', state: 'quarantined' }))[0]).toBe('clear-quarantine');
  });

  it('offers pause or resume by the slot’s paused flag, and cable-replaced always', () => {
    const running = availableActions(slotView({ id: 'a', state: 'idle' }));
    expect(running).toContain('pause');
    expect(running).not.toContain('resume');
    const paused = availableActions(slotView({ id: 'a', state: 'idle', paused: true }));
    expect(paused).toContain('resume');
    expect(paused).not.toContain('pause');
    expect(paused).toContain('cable-replaced');
  });
});
