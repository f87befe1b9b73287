// Typed failures of talking to SecureROM/iBoot. Transfer failures stay UsbTransportError (their
// kind decides transient-usb or host-setup); these cover what the device *says* is wrong.
import { BenchError, TransientUsbError, type FailureEvidence } from '@bench/bench-domain';
import { dfuStateName } from '@bench/protocols';

/**
 * A DFU device is not where an upload needs it: dfuERROR before the upload (cleared with
 * CLRSTATUS, so a retry starts clean), an unexpected state (aborted), or a block that never
 * reached dfuDNLOAD-IDLE. Retrying after a re-open usually works: transient-usb.
 */
export class DfuStateError extends TransientUsbError {
  constructor(
    message: string,
    readonly state: number,
    readonly status: number | undefined,
    evidence: FailureEvidence = {},
  ) {
    super(message, {
      ...evidence,
      detail: `bState ${state} (${dfuStateName(state)}), bStatus ${status ?? '?'}`,
    });
  }
}

/** The device's strings do not say who it is (unreadable or malformed iSerialNumber). */
export class IBootIdentityError extends TransientUsbError {}

/** The device is someone else (another ECID on the bus); openers skip it. */
export class EcidMismatchError extends BenchError {
  constructor(
    readonly expected: string,
    readonly found: string | undefined,
  ) {
    super(`expected ECID ${expected}, the device has ${found ?? 'none'}`, 'unknown');
  }
}

/** No device with the ECID showed up in time ("did not reconnect"). */
export class IBootDeviceNotFoundError extends TransientUsbError {}

/** A wait for attach or detach ran out of time. */
export class DeviceWaitTimeoutError extends TransientUsbError {}
