import { BenchError, type FailureClass, type FailureEvidence } from '@bench/bench-domain';
import { UsbmuxResult } from '@bench/protocols';

export type UsbmuxErrorKind =
  /** No usbmuxd at the address (missing socket, refused, permission): the host's to fix. */
  | 'daemon-unreachable'
  /** USBMUXD_SOCKET_ADDRESS-style value that names no socket. */
  | 'bad-address'
  /** usbmuxd answered a request with a non-zero Result number. */
  | 'result'
  | 'timeout'
  /** The usbmuxd connection ended while a reply or event was awaited. */
  | 'connection-closed'
  /** usbmuxd sent bytes that do not decode. */
  | 'malformed'
  /** ReadPairRecord: usbmuxd holds no pair record for the device (Result ENOENT). */
  | 'not-paired';

const RESULT_NAMES: Record<number, string> = {
  [UsbmuxResult.Ok]: 'OK',
  [UsbmuxResult.BadCommand]: 'BADCOMMAND',
  [UsbmuxResult.BadDevice]: 'BADDEV',
  [UsbmuxResult.ConnectionRefused]: 'CONNREFUSED',
  [UsbmuxResult.BadVersion]: 'BADVERSION',
};

export function usbmuxResultName(number: number): string {
  return RESULT_NAMES[number] ?? `result ${number}`;
}

/**
 * Which failure class a usbmux problem is (design §6): the daemon missing or speaking another
 * protocol is host setup; a device vanishing (BADDEV), refusing a port, or a dropped
 * connection is transient USB.
 */
function failureClassOf(kind: UsbmuxErrorKind, request: string, resultNumber?: number): FailureClass {
  switch (kind) {
    case 'daemon-unreachable':
    case 'bad-address':
    case 'not-paired':
      return 'host-setup';
    case 'connection-closed':
      return 'transient-usb';
    case 'timeout':
      // a Connect waits on the device; anything else waits on usbmuxd itself
      return request === 'Connect' ? 'transient-usb' : 'host-setup';
    case 'result':
      if (resultNumber === UsbmuxResult.BadDevice || resultNumber === UsbmuxResult.ConnectionRefused)
        return 'transient-usb';
      if (resultNumber === UsbmuxResult.BadVersion || resultNumber === UsbmuxResult.BadCommand)
        return 'host-setup';
      return 'unknown';
    case 'malformed':
      return 'unknown';
  }
}

export class UsbmuxError extends BenchError {
  constructor(
    readonly kind: UsbmuxErrorKind,
    message: string,
    readonly request: string,
    readonly resultNumber?: number,
    evidence: FailureEvidence = {},
    options?: { cause?: unknown },
  ) {
    super(message, failureClassOf(kind, request, resultNumber), evidence, options);
  }

  static result(request: string, number: number, detail = ''): UsbmuxError {
    const name = usbmuxResultName(number);
    return new UsbmuxError(
      'result',
      `usbmuxd refused ${request}: ${name} (${number})${detail}`,
      request,
      number,
    );
  }
}

/** ReadPairRecord found nothing: the device was never paired (trusted) with this host. */
export class PairRecordNotFoundError extends UsbmuxError {
  constructor(readonly udid: string) {
    super(
      'not-paired',
      `usbmuxd has no pair record for ${udid}: the device is not paired with this host`,
      'ReadPairRecord',
      2,
    );
  }
}
