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

/**
 * The least a budget shrinks to under a fast simulated clock: host-side work (TSS, reading the
 * IPSW, this machine's own load) does not speed up with the simulator, so a 5-minute budget at
 * 100× must not become 3 s of wall time.
 */
export const SCALED_BUDGET_FLOOR_MS = 30_000;

/**
 * Budgets are device time. When the device's clock runs `timeScale` times faster than ours (a
 * simulator's speed factor), each budget shrinks by that factor, down to SCALED_BUDGET_FLOOR_MS,
 * so a hang at 60× shows as `stuck` within a minute instead of a quarter of an hour.
 */
export function scaleBudgets(budgets: Record<Stage, number>, timeScale = 1): Record<Stage, number> {
  if (timeScale <= 1) return budgets;
  const scaled = { ...budgets };
  for (const stage of Object.keys(scaled) as Stage[]) scaled[stage] = scaleBudget(budgets[stage], timeScale);
  return scaled;
}

function scaleBudget(budgetMs: number, timeScale: number): number {
  if (timeScale <= 1) return budgetMs;
  return Math.min(budgetMs, Math.max(SCALED_BUDGET_FLOOR_MS, Math.round(budgetMs / timeScale)));
}

/**
 * A filesystem of `bytes` at no less than 5 MB/s of device time, and never under the stage's
 * (already scaled) budget.
 */
export function filesystemBudget(bytes: number, base: number, timeScale = 1): number {
  return Math.max(base, scaleBudget(Math.ceil(bytes / (5 * 1024 * 1024)) * 1000, timeScale));
}
