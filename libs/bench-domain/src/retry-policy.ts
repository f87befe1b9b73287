import type { FailureClass } from './vocabulary';

/**
 * What the bench does after an attempt fails with a given class (design §6).
 * - `retry`: BullMQ retries with backoff, up to `maxAttempts` in total for the run.
 * - `wait-power`: hold the slot in `waiting-power` until charged, then retry; does not burn an attempt.
 * - `stop-bricked` / `stop-attention`: no retry (UnrecoverableError); the slot shows `bricked` / `attention`.
 * - `none`: nothing to do (operator cancelled).
 */
export type FailureAction = 'retry' | 'wait-power' | 'stop-bricked' | 'stop-attention' | 'none';

export interface ClassRule {
  action: FailureAction;
  /** Total attempts allowed for this class within one run (retry only). */
  maxAttempts?: number;
  /** First backoff delay in ms; doubles for each further attempt (retry only). */
  backoffMs?: number;
}

export interface RetryPolicy {
  name: string;
  rules: Record<FailureClass, ClassRule>;
  /** Transient failures on one port across this many different phones quarantine the port. */
  quarantineAfterPhones: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  name: 'default',
  quarantineAfterPhones: 3,
  rules: {
    'transient-usb': { action: 'retry', maxAttempts: 3, backoffMs: 5_000 },
    power: { action: 'wait-power' },
    'signing-refused': { action: 'stop-attention' },
    'firmware-invalid': { action: 'retry', maxAttempts: 2, backoffMs: 1_000 },
    stuck: { action: 'retry', maxAttempts: 2, backoffMs: 5_000 },
    'device-hardware': { action: 'stop-bricked' },
    'host-setup': { action: 'stop-attention' },
    cancelled: { action: 'none' },
    unknown: { action: 'retry', maxAttempts: 2, backoffMs: 5_000 },
  },
};
