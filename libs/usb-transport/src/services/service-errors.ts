import { BenchError, type FailureClass, type FailureEvidence } from '@bench/bench-domain';

export type DeviceServiceErrorKind =
  /** The device side closed or reset the connection (device rebooted, cable pulled). */
  | 'closed'
  /** No answer within the receive timeout. */
  | 'timeout'
  /** The device sent bytes that do not decode, or a reply out of step. */
  | 'malformed'
  /** The TLS handshake with the pair record's certificates failed. */
  | 'tls';

const FAILURE_CLASS: Record<DeviceServiceErrorKind, FailureClass> = {
  closed: 'transient-usb',
  timeout: 'transient-usb',
  malformed: 'unknown',
  // a pair record the device no longer accepts is fixed on the host (re-pair)
  tls: 'host-setup',
};

/** A failure talking to a device service (lockdownd, restored, ASR, diagnostics relay, FDR). */
export class DeviceServiceError extends BenchError {
  constructor(
    readonly kind: DeviceServiceErrorKind,
    readonly service: string,
    message: string,
    evidence: FailureEvidence = {},
    options?: { cause?: unknown },
  ) {
    super(`${service}: ${message}`, FAILURE_CLASS[kind], evidence, options);
  }
}
