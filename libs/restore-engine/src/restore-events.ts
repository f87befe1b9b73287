// The engine's side of the restore event stream: the listener type and how stages weigh in one
// progress bar. The event type itself lives in @bench/bench-domain (the agent, the recorder and
// the dashboard read it too).
import type { RestoreEvent, Stage } from '@bench/bench-domain';

export type { RestoreEvent };

export type RestoreEventListener = (event: RestoreEvent) => void;

/** Overall percent across stages, for one progress bar (weights: most time is the filesystem). */
export const STAGE_WEIGHTS: Record<Stage, number> = {
  prepare: 2,
  'enter-recovery': 3,
  'send-ibss': 2,
  'send-ibec': 3,
  'boot-ramdisk': 5,
  'restored-connect': 1,
  'send-filesystem': 55,
  verify: 15,
  'flash-firmware': 6,
  baseband: 3,
  finalize: 3,
  reboot: 2,
};
