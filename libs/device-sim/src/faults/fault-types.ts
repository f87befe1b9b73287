// What can go wrong with a simulated phone, and where the personalities ask about it.
import type { Stage } from '@bench/bench-domain';
import type { SimPhone } from '../phone/sim-phone';

export type SimFault =
  /** The cable is pulled: the phone detaches; it can be re-plugged (by a script, the control API or a human). */
  | { kind: 'cable-pull'; replugAfterMs?: number }
  /** The link drops now and then: short detaches while transferring. */
  | { kind: 'flaky-cable'; dropsPerMinute?: number }
  /** The battery is empty: the phone powers off mid-stage. */
  | { kind: 'battery-dies' }
  /** The phone stops making progress but stays attached. */
  | { kind: 'hang' }
  /** restored ends the restore with StatusMsg `code` and a device log. */
  | { kind: 'status'; code: number }
  /** The signing server refuses the build for this device (TSS status 94). */
  | { kind: 'unsigned-build' }
  /** Bytes are damaged in transit (checksums and personalization checks fail). */
  | { kind: 'corrupt-transfer' }
  /** The port links at full speed (12 Mbit/s), as with a bad cable. */
  | { kind: 'full-speed-link' }
  /** The hub reports over-current on the port and cuts its power. */
  | { kind: 'over-current' };

export type SimFaultKind = SimFault['kind'];

/** A point in a restore where the personality asks whether a fault strikes now. */
export interface FaultCheckpoint {
  stage: Stage;
  /** 0–100 within the stage, when the stage reports progress (uploads, the filesystem). */
  progress?: number;
}

/**
 * Personalities call `check` at their checkpoints. Faults that act on the bench (`cable-pull`,
 * `battery-dies`, `over-current`, `flaky-cable` drops) are carried out by the fault engine
 * itself before it returns; the personality then simply stops. `hang`, `status` and
 * `corrupt-transfer` are carried out by the personality that asked.
 */
export interface PhoneFaults {
  check(phone: SimPhone, checkpoint: FaultCheckpoint): SimFault | undefined;
  /** Whether a persistent condition holds for this phone now (e.g. `full-speed-link`, `unsigned-build`). */
  active(phone: SimPhone, kind: SimFaultKind): boolean;
}

export const NO_FAULTS: PhoneFaults = {
  check: () => undefined,
  active: () => false,
};

/** Bench-level kinds: the fault engine performs them; the asking personality just stops. */
export const BENCH_LEVEL_FAULTS: ReadonlySet<SimFaultKind> = new Set([
  'cable-pull',
  'battery-dies',
  'over-current',
  'flaky-cable',
]);
