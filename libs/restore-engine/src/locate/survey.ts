// Every Apple device this host can see, in any mode: DFU/recovery phones on the USB bus (from
// their iSerialNumber) and normal/restore phones behind usbmuxd (from lockdownd or restored).
// `bench devices` prints it; the agent uses it to bind phones to ports.
import { parseEcid, type Ecid } from '@bench/bench-domain';
import {
  APPLE_USB_VENDOR_ID,
  ibootModeOfProductId,
  parseIBootSerial,
  type UsbmuxDevice,
} from '@bench/protocols';
import { UsbmuxError, USB_SPEED_MBPS, type UsbBus, type UsbmuxClient } from '@bench/usb-transport';
import { portPathOfLocation } from './device-locator';
import { ecidOfUdid, probeMuxDevice } from './mux-probe';

export interface SeenDevice {
  mode: 'dfu' | 'recovery' | 'wtf' | 'port-dfu' | 'normal' | 'restore' | 'unknown';
  ecid?: Ecid;
  portPath?: string;
  /** Negotiated link speed in Mbit/s. */
  speedMbps?: number;
  via: 'usb' | 'usbmux';
  cpid?: number;
  bdid?: number;
  udid?: string;
  productType?: string;
  productVersion?: string;
  error?: string;
}

export interface Survey {
  devices: SeenDevice[];
  /** Set when usbmuxd could not be asked (normal and restore mode phones are then missing). */
  usbmuxError?: string;
}

export async function surveyDevices(bus: UsbBus, usbmux: UsbmuxClient | undefined): Promise<Survey> {
  const usbDevices = await bus.list();
  const devices: SeenDevice[] = [];
  for (const device of usbDevices) {
    if (device.vendorId !== APPLE_USB_VENDOR_ID) continue;
    const mode = ibootModeOfProductId(device.productId);
    if (!mode) continue;
    const seen: SeenDevice = {
      mode,
      via: 'usb',
      portPath: device.portPath,
      speedMbps: USB_SPEED_MBPS[device.speed],
    };
    try {
      const handle = await bus.open(device);
      try {
        const serial = parseIBootSerial(await handle.getStringDescriptor(device.serialNumberIndex, 2_000));
        seen.ecid = serial.ecid === undefined ? undefined : parseEcid(serial.ecid);
        seen.cpid = serial.cpid;
        seen.bdid = serial.bdid;
      } finally {
        await handle.close().catch(() => undefined);
      }
    } catch (error) {
      seen.error = (error as Error).message;
    }
    devices.push(seen);
  }
  if (!usbmux) return { devices };
  let muxDevices: UsbmuxDevice[];
  try {
    muxDevices = await usbmux.listDevices();
  } catch (error) {
    if (error instanceof UsbmuxError) return { devices, usbmuxError: error.message };
    throw error;
  }
  for (const device of muxDevices) {
    if (device.connectionType !== 'USB') continue;
    devices.push(await describeMuxDevice(usbmux, device, portPathOfLocation(device.locationId, usbDevices)));
  }
  return { devices };
}

async function describeMuxDevice(
  usbmux: UsbmuxClient,
  device: UsbmuxDevice,
  portPath: string | undefined,
): Promise<SeenDevice> {
  const seen: SeenDevice = {
    mode: 'unknown',
    via: 'usbmux',
    udid: device.serialNumber,
    portPath,
    speedMbps: device.connectionSpeed === undefined ? undefined : device.connectionSpeed / 1e6,
  };
  seen.ecid = ecidOfUdid(device.serialNumber);
  try {
    const probe = await probeMuxDevice(usbmux, device.deviceId, { knownEcid: seen.ecid, details: true });
    if (probe.mode) seen.mode = probe.mode;
    seen.ecid = probe.ecid;
    seen.productType = probe.productType;
    seen.productVersion = probe.productVersion;
  } catch (error) {
    seen.error = (error as Error).message;
  }
  return seen;
}
