// A SlotView with defaults, for the dashboard's specs.
import type { SlotView } from '@bench/events';

export function slotView(overrides: Partial<SlotView> & { id: string }): SlotView {
  return {
    hostId: 'host-1',
    benchId: 'bench-1',
    portPath: `port-${overrides.id}`,
    label: null,
    gridRow: null,
    gridCol: null,
    state: 'idle',
    doNotUnplug: false,
    paused: false,
    updatedAt: 1000,
    ...overrides,
  };
}
