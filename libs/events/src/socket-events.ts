// The typed socket.io event map shared by the server's gateway and the dashboard: a wrong
// event name or payload does not compile on either side.
import type { SlotState, Stage } from '@bench/bench-domain';
import type { HostView, SlotView } from './api-types';

export interface SlotProgress {
  slotId: string;
  stage: Stage;
  percent: number;
  etaSeconds?: number;
  bytesSent?: number;
  bytesTotal?: number;
  at: number;
}

export interface AlertMessage {
  id: string;
  slotId: string;
  hostId: string;
  portPath: string;
  label: string | null;
  state: Extract<SlotState, 'stuck' | 'bricked' | 'attention' | 'quarantined'>;
  message: string;
  at: number;
}

export interface ServerToClientEvents {
  /** A slot changed (state, phone, run, detail…): the whole slot view. */
  'slot.updated': (slot: SlotView) => void;
  /** Progress of the slot's restore (throttled at the source). */
  'slot.progress': (progress: SlotProgress) => void;
  /** A slot needs a human (stuck, bricked, attention, quarantined). */
  alert: (alert: AlertMessage) => void;
  /** A host's agent went offline, came back, or a new host appeared (the whole host view). */
  'host.updated': (host: HostView) => void;
}

export interface ClientToServerEvents {
  /** Join the rooms of a bench, a slot, or everything (`all`). */
  subscribe: (rooms: { all?: boolean; benchId?: string; slotId?: string }) => void;
  unsubscribe: (rooms: { benchId?: string; slotId?: string }) => void;
}

export const ROOMS = {
  all: 'all',
  bench: (benchId: string) => `bench:${benchId}`,
  slot: (slotId: string) => `slot:${slotId}`,
} as const;
