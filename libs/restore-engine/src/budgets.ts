// Stage budgets: the longest a stage may take before the attempt fails as `stuck`. Defaults come
// from idevicerestore's waits (restore-protocol §10) plus the work itself, with room for slow
// USB 2.0 hubs; the filesystem budget grows with the image (at a 5 MB/s floor).
import type { Stage } from '@bench/bench-domain';

const MINUTE = 60_000;

export const DEFAULT_STAGE_BUDGETS: Record<Stage, number> = {
  prepare: 5 * MINUTE, // identity, TSS (15 tries × 2 s), reading the IPSW
  'enter-recovery': 2 * MINUTE, // 60 s to disconnect + 60 s to come back in recovery
  'send-ibss': MINUTE, // upload + 10 s disconnect + 10 s reconnect
  'send-ibec': 2.5 * MINUTE, // upload + 60 s + 60 s on the recovery path
  'boot-ramdisk': 7 * MINUTE, // uploads, 30 s for bootx to disconnect, 300 s for restore mode
  'restored-connect': 2 * MINUTE, // restored waits 120 s for StartRestore
  'send-filesystem': 20 * MINUTE, // at least; see filesystemBudget()
  verify: 15 * MINUTE,
  'flash-firmware': 10 * MINUTE,
  baseband: 10 * MINUTE,
  finalize: 10 * MINUTE,
  reboot: 5 * MINUTE, // 30 s out of restore mode, then booting iOS
};

export function stageBudgets(overrides: Partial<Record<Stage, number>> = {}): Record<Stage, number> {
  return { ...DEFAULT_STAGE_BUDGETS, ...overrides };
}

/** A filesystem of `bytes` at no less than 5 MB/s, and never under the stage default. */
export function filesystemBudget(bytes: number, base: number): number {
  return Math.max(base, Math.ceil(bytes / (5 * 1024 * 1024)) * 1000);
}
