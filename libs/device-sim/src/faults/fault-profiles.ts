// Named fault profiles: each phone draws its faults from the profile with the bench's seed,
// so a night on the simulated shop floor is reproducible.
import type { Stage } from '@bench/bench-domain';
import type { SeededRandom } from '../time/random';
import type { FaultRule } from './fault-script';
import type { SimFault } from './fault-types';

interface ProfileEntry {
  /** Chance that a phone gets this fault. */
  probability: number;
  fault: (random: SeededRandom) => SimFault;
  /** Where it strikes; undefined = holds for the whole run. */
  at?: (random: SeededRandom) => { stage: Stage; progress?: number };
  /** How many times it strikes (default 1: the phone is fine on the next attempt). */
  times?: number;
}

/** A fault that strikes at every attempt: the phone is really broken. */
export const EVERY_ATTEMPT = Number.MAX_SAFE_INTEGER;

const TRANSFER_STAGES: Stage[] = ['send-ibss', 'send-ibec', 'boot-ramdisk', 'send-filesystem', 'verify'];
const ANY_RESTORE_STAGE: Stage[] = [
  'enter-recovery',
  'send-ibss',
  'send-ibec',
  'boot-ramdisk',
  'restored-connect',
  'send-filesystem',
  'verify',
  'flash-firmware',
];

/**
 * `shop-floor`: what a busy repair bench sees. Cable pulls and flaky cables dominate (they are
 * transient: the phone is fine), a few dead batteries and hangs, rare hardware failures
 * (bricked phones) and bad links.
 */
const SHOP_FLOOR: ProfileEntry[] = [
  {
    probability: 0.12,
    fault: (r) => ({ kind: 'cable-pull', replugAfterMs: r.int(5_000, 60_000) }),
    at: (r) => ({ stage: r.pick(TRANSFER_STAGES), progress: r.int(5, 95) }),
  },
  {
    probability: 0.04,
    fault: () => ({ kind: 'battery-dies' }),
    at: (r) => ({ stage: r.pick(['send-filesystem', 'verify'] as Stage[]), progress: r.int(10, 90) }),
  },
  {
    probability: 0.04,
    fault: () => ({ kind: 'hang' }),
    at: (r) => ({ stage: r.pick(ANY_RESTORE_STAGE), progress: r.int(0, 90) }),
  },
  {
    probability: 0.03,
    fault: (r) => ({ kind: 'status', code: r.pick([6, 27, 53, 1015]) }),
    at: () => ({ stage: 'verify', progress: 50 }),
  },
  { probability: 0.05, fault: () => ({ kind: 'full-speed-link' }) },
  {
    probability: 0.02,
    fault: () => ({ kind: 'corrupt-transfer' }),
    at: (r) => ({ stage: 'send-filesystem', progress: r.int(10, 90) }),
  },
];

/**
 * A truly broken phone: restored fails with a hardware status at every attempt (a bad board, not a
 * bad moment). It should end `bricked`; the one-off hardware statuses of `shop-floor` should not.
 */
const BROKEN_PHONE: ProfileEntry = {
  probability: 0.01,
  fault: (r) => ({ kind: 'status', code: r.pick([6, 27, 53, 1015]) }),
  at: () => ({ stage: 'verify', progress: 50 }),
  times: EVERY_ATTEMPT,
};

export const FAULT_PROFILES: Record<string, ProfileEntry[]> = {
  none: [],
  'shop-floor': SHOP_FLOOR,
  /** `shop-floor` plus one phone in a hundred that is really broken (the ground truth for "bricked"). */
  'shop-floor-broken': [...SHOP_FLOOR, BROKEN_PHONE],
};

/** Draws the faults of one phone from a profile. */
export function drawProfileFaults(profile: string, ecid: bigint, random: SeededRandom): FaultRule[] {
  const entries = FAULT_PROFILES[profile];
  if (!entries)
    throw new RangeError(
      `unknown fault profile '${profile}'; known: ${Object.keys(FAULT_PROFILES).join(', ')}`,
    );
  const rules: FaultRule[] = [];
  for (const entry of entries) {
    if (random.next() >= entry.probability) continue;
    rules.push({ ecid, fault: entry.fault(random), at: entry.at?.(random), times: entry.times ?? 1 });
  }
  return rules;
}
