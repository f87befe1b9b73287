// What Linux says about the USB devices on this host, read from sysfs (no device is opened).
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const APPLE_VENDOR_ID = 0x05ac;

export interface SysfsUsbDevice {
  /** Location path `BUS-P.P.P` (root hubs are `usbN`). */
  portPath: string;
  busnum: number;
  devnum: number;
  vendorId: number;
  productId: number;
  deviceClass: number;
  /** Negotiated speed in Mbit/s (1.5, 12, 480, 5000, …). */
  speedMbps?: number;
  product?: string;
  /** Number of downstream ports for hubs. */
  maxChild?: number;
  devNode: string;
}

export function listSysfsUsbDevices(root = '/sys/bus/usb/devices'): SysfsUsbDevice[] {
  if (!existsSync(root)) return [];
  const devices: SysfsUsbDevice[] = [];
  for (const name of readdirSync(root)) {
    // Interfaces are `1-1.4:1.0`; only devices carry idVendor.
    if (name.includes(':')) continue;
    const dir = path.join(root, name);
    const read = (attr: string): string | undefined => {
      try {
        return readFileSync(path.join(dir, attr), 'utf8').trim();
      } catch {
        return undefined;
      }
    };
    const vendor = read('idVendor');
    const busnum = Number(read('busnum'));
    const devnum = Number(read('devnum'));
    if (!vendor || !Number.isInteger(busnum) || !Number.isInteger(devnum)) continue;
    const speed = Number(read('speed'));
    const maxChild = read('maxchild');
    devices.push({
      portPath: name,
      busnum,
      devnum,
      vendorId: parseInt(vendor, 16),
      productId: parseInt(read('idProduct') ?? '0', 16),
      deviceClass: parseInt(read('bDeviceClass') ?? '0', 16),
      speedMbps: Number.isFinite(speed) && speed > 0 ? speed : undefined,
      product: read('product'),
      maxChild: maxChild === undefined ? undefined : Number(maxChild),
      devNode: `/dev/bus/usb/${String(busnum).padStart(3, '0')}/${String(devnum).padStart(3, '0')}`,
    });
  }
  return devices.sort((a, b) => a.portPath.localeCompare(b.portPath));
}

export function canOpenReadWrite(devNode: string): boolean {
  try {
    accessSync(devNode, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
