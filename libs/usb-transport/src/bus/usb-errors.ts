import { BenchError, type FailureClass, type FailureEvidence } from '@bench/bench-domain';

export type UsbErrorKind =
  | 'no-device'
  | 'timeout'
  | 'pipe'
  | 'io'
  | 'access'
  | 'busy'
  | 'not-found'
  | 'overflow'
  | 'interrupted'
  | 'invalid'
  | 'closed'
  | 'unknown';

/** Permission problems are the host's to fix; everything else on the wire is transient. */
export function failureClassOfUsbError(kind: UsbErrorKind): FailureClass {
  return kind === 'access' ? 'host-setup' : 'transient-usb';
}

export class UsbTransportError extends BenchError {
  constructor(
    readonly kind: UsbErrorKind,
    message: string,
    evidence: FailureEvidence = {},
    options?: { cause?: unknown },
  ) {
    super(message, failureClassOfUsbError(kind), evidence, options);
  }
}

/** libusb error codes (libusb.h) → our kinds. */
const LIBUSB_KINDS: Record<number, UsbErrorKind> = {
  [-1]: 'io',
  [-2]: 'invalid',
  [-3]: 'access',
  [-4]: 'no-device',
  [-5]: 'not-found',
  [-6]: 'busy',
  [-7]: 'timeout',
  [-8]: 'overflow',
  [-9]: 'pipe',
  [-10]: 'interrupted',
  [-11]: 'io', // LIBUSB_ERROR_NO_MEM
  [-12]: 'invalid', // LIBUSB_ERROR_NOT_SUPPORTED
  [-99]: 'unknown',
};

/** Maps an error thrown by the `usb` package (it carries `errno` = the libusb code). */
export function fromLibusbError(error: unknown, operation: string): UsbTransportError {
  if (error instanceof UsbTransportError) return error;
  const errno = typeof error === 'object' && error !== null && 'errno' in error ? Number(error.errno) : NaN;
  const kind: UsbErrorKind = LIBUSB_KINDS[errno] ?? 'unknown';
  const text = error instanceof Error ? error.message : String(error);
  return new UsbTransportError(kind, `${operation}: ${text}`, {}, { cause: error });
}
