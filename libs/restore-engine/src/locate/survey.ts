// Every Apple device this host can see, in any mode: DFU/recovery phones on the USB bus (from
// their iSerialNumber) and normal/restore phones behind usbmuxd (from lockdownd or restored).
// `bench devices` prints it; the agent uses it to bind phones to ports.
import { parseEcid, type Ecid } from '@bench/bench-domain';
import {
  APPLE_USB_VENDOR_ID,
  ibootModeOfProductId,
  LOCKDOWN_SERVICE_TYPE,
  parseIBootSerial,
  RESTORED_SERVICE_TYPE,
  type UsbmuxDevice,
} from '@bench/protocols';
import {
  LockdownClient,
  RestoredClient,
  UsbmuxError,
  USB_SPEED_MBPS,
  type UsbBus,
  type UsbmuxClient,
} from '@bench/usb-transport';
import { portPathOfLocation } from './device-locator';

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
  const modern = /^[0-9A-F]{8}-([0-9A-F]{16})$/i.exec(device.serialNumber);
  if (modern) seen.ecid = parseEcid(`0x${modern[1]}`);
  try {
    const lockdown = await LockdownClient.open(usbmux, device.deviceId, { receiveTimeoutMs: 5_000 });
    try {
      const type = await lockdown.queryType();
      if (type === LOCKDOWN_SERVICE_TYPE) {
        seen.mode = 'normal';
        const chip = await lockdown.getValue(undefined, 'UniqueChipID');
        if (typeof chip === 'number' || typeof chip === 'bigint') seen.ecid = parseEcid(chip);
        const productType = await lockdown.getValue(undefined, 'ProductType');
        const productVersion = await lockdown.getValue(undefined, 'ProductVersion');
        if (typeof productType === 'string') seen.productType = productType;
        if (typeof productVersion === 'string') seen.productVersion = productVersion;
      } else if (type === RESTORED_SERVICE_TYPE) {
        seen.mode = 'restore';
      }
      await lockdown.goodbye().catch(() => undefined);
    } finally {
      lockdown.close();
    }
    if (seen.mode === 'restore' && !seen.ecid) {
      const restored = await RestoredClient.open(usbmux, device.deviceId, { receiveTimeoutMs: 5_000 });
      try {
        seen.ecid = parseEcid((await restored.hardwareInfo()).uniqueChipId);
        await restored.goodbye().catch(() => undefined);
      } finally {
        restored.close();
      }
    }
  } catch (error) {
    seen.error = (error as Error).message;
  }
  return seen;
}
