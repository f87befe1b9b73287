// node `usb` reports two kinds of failure: calls made synchronously throw a LibUSBException
// whose errno is a LIBUSB_ERROR_* code (negative), while transfer callbacks get one whose errno
// is the LIBUSB_TRANSFER_* completion status (positive: 2 = timed out, 4 = stall, 5 = no device).
// fromLibusbError knows the former; transfer statuses are translated to it here.
import { fromLibusbError, UsbTransportError } from '../bus/usb-errors';
import type { LibusbError } from './usb-module';

/** LIBUSB_TRANSFER_* status → the LIBUSB_ERROR_* code libusb's synchronous API reports for it. */
const TRANSFER_STATUS_TO_ERROR: Record<number, number> = {
  1: -1, // LIBUSB_TRANSFER_ERROR → LIBUSB_ERROR_IO
  2: -7, // LIBUSB_TRANSFER_TIMED_OUT → LIBUSB_ERROR_TIMEOUT
  3: -10, // LIBUSB_TRANSFER_CANCELLED → LIBUSB_ERROR_INTERRUPTED
  4: -9, // LIBUSB_TRANSFER_STALL → LIBUSB_ERROR_PIPE
  5: -4, // LIBUSB_TRANSFER_NO_DEVICE → LIBUSB_ERROR_NO_DEVICE
  6: -8, // LIBUSB_TRANSFER_OVERFLOW → LIBUSB_ERROR_OVERFLOW
};

export const TRANSFER_STATUS_NAMES: Record<number, string> = {
  1: 'LIBUSB_TRANSFER_ERROR',
  2: 'LIBUSB_TRANSFER_TIMED_OUT',
  3: 'LIBUSB_TRANSFER_CANCELLED',
  4: 'LIBUSB_TRANSFER_STALL',
  5: 'LIBUSB_TRANSFER_NO_DEVICE',
  6: 'LIBUSB_TRANSFER_OVERFLOW',
};

/** Maps an error from a node-usb transfer callback (or one thrown when submitting it). */
export function fromTransferError(error: LibusbError | unknown, operation: string): UsbTransportError {
  const errno = typeof error === 'object' && error !== null && 'errno' in error ? Number(error.errno) : NaN;
  const translated = TRANSFER_STATUS_TO_ERROR[errno];
  if (translated === undefined) return fromLibusbError(error, operation);
  // node usb names positive statuses "**UNKNOWN**"; say what happened instead.
  const named = Object.assign(new Error(TRANSFER_STATUS_NAMES[errno]), { errno: translated });
  const mapped = fromLibusbError(named, operation);
  return new UsbTransportError(mapped.kind, mapped.message, {}, { cause: error });
}
