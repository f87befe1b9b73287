// Where a libusb device sits and how fast it linked, in the names Linux and uhubctl use.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { UsbSpeed } from '../bus/usb-bus';

/** `BUS-P.P.P` from libusb's bus number and port chain; root hubs are `usbN` as in sysfs. */
export function libusbPortPath(busNumber: number, portNumbers: readonly number[] | undefined): string {
  return portNumbers && portNumbers.length ? `${busNumber}-${portNumbers.join('.')}` : `usb${busNumber}`;
}

/** sysfs `speed` (Mbit/s as text: 1.5, 12, 480, 5000, 10000, 20000) → UsbSpeed. */
export function speedFromSysfs(text: string | undefined): UsbSpeed {
  switch (text?.trim()) {
    case '1.5':
      return 'low';
    case '12':
      return 'full';
    case '480':
      return 'high';
    case '5000':
      return 'super';
    case '10000':
    case '20000':
      return 'super-plus';
    default:
      return 'unknown';
  }
}

export const SYSFS_USB_DEVICES = '/sys/bus/usb/devices';

/** node `usb` 2.x does not expose the negotiated speed; sysfs does. */
export function readSysfsSpeed(portPath: string, root = SYSFS_USB_DEVICES): UsbSpeed {
  try {
    return speedFromSysfs(readFileSync(path.join(root, portPath, 'speed'), 'utf8'));
  } catch {
    return 'unknown';
  }
}
