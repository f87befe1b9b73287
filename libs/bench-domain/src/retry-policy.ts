import type { FailureClass } from './vocabulary';

/**
 * What the bench does after an attempt fails with a given class (design §6).
 * - `retry`: BullMQ retries with backoff, up to `maxAttempts` in total for the run.
 * - `wait-power`: hold the slot in `waiting-power` until charged, then retry; does not burn an attempt.
 * - `stop-bricked` / `stop-attention`: the slot shows `bricked` / `attention` (UnrecoverableError). With
 *   `maxAttempts` above 1 the verdict is confirmed first: the run is retried (with `backoffMs`) until
 *   the class has failed `maxAttempts` times, and only then stopped (no escalation ladder).
 * - `none`: nothing to do (operator cancelled).
 */
export type FailureAction = 'retry' | 'wait-power' | 'stop-bricked' | 'stop-attention' | 'none';

export interface ClassRule {
  action: FailureAction;
  /**
   * Total attempts allowed for this class within one run: `retry` retries until then; `stop-*`
   * stops only when the failure has repeated this often (default 1: at once).
   */
  maxAttempts?: number;
  /** First backoff delay in ms; doubles for each further attempt (`retry`, and confirming `stop-*`). */
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
    // One confirming attempt from recovery: a hardware status that does not repeat (a bad moment,
    // not a bad board) must not send a healthy phone to repair; one that repeats does.
    'device-hardware': { action: 'stop-bricked', maxAttempts: 2, backoffMs: 5_000 },
    'host-setup': { action: 'stop-attention' },
    cancelled: { action: 'none' },
    unknown: { action: 'retry', maxAttempts: 2, backoffMs: 5_000 },
  },
};
