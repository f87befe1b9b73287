import type { FailureClass, Stage } from './vocabulary';

/** What the engine saw when a stage failed; attached to the attempt record. */
export interface FailureEvidence {
  stage?: Stage;
  lastDeviceMessage?: string;
  statusCode?: number;
  deviceLog?: string;
  detail?: string;
}

/**
 * The root of bench's typed errors. Every failure that can end an attempt carries a failure
 * class; retry policy is decided from the class alone (design §6), never from message text.
 */
export class BenchError extends Error {
  constructor(
    message: string,
    readonly failureClass: FailureClass,
    readonly evidence: FailureEvidence = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export class TransientUsbError extends BenchError {
  constructor(message: string, evidence?: FailureEvidence, options?: { cause?: unknown }) {
    super(message, 'transient-usb', evidence, options);
  }
}
export class PowerError extends BenchError {
  constructor(message: string, evidence?: FailureEvidence, options?: { cause?: unknown }) {
    super(message, 'power', evidence, options);
  }
}
export class SigningRefusedError extends BenchError {
  constructor(message: string, evidence?: FailureEvidence, options?: { cause?: unknown }) {
    super(message, 'signing-refused', evidence, options);
  }
}
export class FirmwareInvalidError extends BenchError {
  constructor(message: string, evidence?: FailureEvidence, options?: { cause?: unknown }) {
    super(message, 'firmware-invalid', evidence, options);
  }
}
export class StuckError extends BenchError {
  constructor(message: string, evidence?: FailureEvidence, options?: { cause?: unknown }) {
    super(message, 'stuck', evidence, options);
  }
}
export class DeviceHardwareError extends BenchError {
  constructor(message: string, evidence?: FailureEvidence, options?: { cause?: unknown }) {
    super(message, 'device-hardware', evidence, options);
  }
}
export class HostSetupError extends BenchError {
  constructor(message: string, evidence?: FailureEvidence, options?: { cause?: unknown }) {
    super(message, 'host-setup', evidence, options);
  }
}
export class CancelledError extends BenchError {
  constructor(message = 'cancelled', evidence?: FailureEvidence, options?: { cause?: unknown }) {
    super(message, 'cancelled', evidence, options);
  }
}

export function failureClassOf(error: unknown): FailureClass {
  return error instanceof BenchError ? error.failureClass : 'unknown';
}
