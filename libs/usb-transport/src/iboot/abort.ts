// AbortSignal handling shared by the iBoot helpers (not exported from the library).
import { BenchError, CancelledError } from '@bench/bench-domain';

/** The error to throw when `signal` is aborted: its reason when that is typed, else a CancelledError. */
export function abortError(signal: AbortSignal): BenchError {
  const reason: unknown = signal.reason;
  return reason instanceof BenchError ? reason : new CancelledError('cancelled', {}, { cause: reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
