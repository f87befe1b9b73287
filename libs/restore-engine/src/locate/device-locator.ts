// "Where is the device now?" — asked before every step. A phone is found by ECID: on the USB bus
// in DFU/recovery (its iSerialNumber carries the ECID), or behind usbmuxd in normal/restore mode
// (the UDID `CPID-ECID`, else lockdownd's UniqueChipID or restored's HardwareInfo). When the
// engine runs for a slot, only a device on that slot's port counts (usbmux LocationID is
// `bus << 16 | address` on Linux, matched against the bus).
import { parseEcid, type Ecid } from '@bench/bench-domain';
import {
  APPLE_USB_VENDOR_ID,
  ibootModeOfProductId,
  parseIBootSerial,
  type IBootMode,
  type UsbmuxDevice,
} from '@bench/protocols';
import { UsbmuxError, type UsbBus, type UsbDeviceInfo, type UsbmuxClient } from '@bench/usb-transport';
import { TransientUsbError } from '@bench/bench-domain';
import type { EngineLogger } from '../engine-types';
import { ecidOfUdid, probeMuxDevice } from './mux-probe';

export type DeviceLocation =
  | {
      via: 'usb';
      mode: IBootMode;
      device: UsbDeviceInfo;
      portPath: string;
      /** The phone's serial number, from SRNM in its iSerialNumber (recovery; DFU does not tell). */
      serialNumber?: string;
    }
  | { via: 'usbmux'; mode: 'normal' | 'restore'; device: UsbmuxDevice; udid: string; portPath?: string };

export type LocationMode = DeviceLocation['mode'];

/** What a DFU/recovery device's iSerialNumber says: its ECID (null: none), its serial number (SRNM). */
interface UsbSerial {
  ecid: Ecid | null;
  serialNumber?: string;
}

interface MuxIdentity {
  ecid?: Ecid;
  mode?: 'normal' | 'restore';
}

export class DeviceNotFoundError extends TransientUsbError {}

export class DeviceLocator {
  /** Per enumeration: a USB device id or a usbmux DeviceID never changes identity. */
  private readonly usbSerials = new Map<string, UsbSerial>();
  private readonly muxIdentities = new Map<number, MuxIdentity>();
  /** The last usbmuxd failure, to tell "usbmuxd is down" from "no phone" (host-setup). */
  usbmuxError?: UsbmuxError;

  constructor(
    private readonly bus: UsbBus,
    private readonly usbmux: UsbmuxClient,
    readonly ecid: Ecid,
    readonly portPath: string | undefined,
    private readonly logger: EngineLogger,
  ) {}

  /** One look: the device's location now, or undefined. */
  async locate(signal?: AbortSignal): Promise<DeviceLocation | undefined> {
    signal?.throwIfAborted();
    const usbDevices = await this.bus.list();
    const onUsb = await this.findOnUsb(usbDevices);
    if (onUsb) return onUsb;
    return this.findOnUsbmux(usbDevices, signal);
  }

  /**
   * Waits until the device is somewhere `accept` likes. Re-looks on every hotplug or usbmux
   * event, and every `recheckMs` in case an event source is down.
   */
  async waitFor(
    accept: (location: DeviceLocation) => boolean,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    recheckMs = 2_000,
  ): Promise<DeviceLocation | undefined> {
    const deadline = Date.now() + timeoutMs;
    const waker = new Waker();
    const stopWatching = this.bus.watch(() => waker.wake());
    const listen = new AbortController();
    void this.followUsbmux(listen.signal, () => waker.wake());
    try {
      for (;;) {
        const location = await this.locate(signal);
        if (location && accept(location)) return location;
        const remaining = deadline - Date.now();
        if (remaining <= 0) return undefined;
        await waker.sleep(Math.min(remaining, recheckMs), signal);
      }
    } finally {
      stopWatching();
      listen.abort();
    }
  }

  /** Forgets cached identities (after a mode change the ids are new anyway; this frees memory). */
  forget(): void {
    this.usbSerials.clear();
    this.muxIdentities.clear();
  }

  private async findOnUsb(devices: UsbDeviceInfo[]): Promise<DeviceLocation | undefined> {
    for (const device of devices) {
      if (device.vendorId !== APPLE_USB_VENDOR_ID) continue;
      const mode = ibootModeOfProductId(device.productId);
      if (!mode) continue;
      if (this.portPath !== undefined && device.portPath !== this.portPath) continue;
      const serial = await this.usbSerialOf(device);
      if (serial.ecid === this.ecid) {
        return { via: 'usb', mode, device, portPath: device.portPath, serialNumber: serial.serialNumber };
      }
    }
    return undefined;
  }

  private async usbSerialOf(device: UsbDeviceInfo): Promise<UsbSerial> {
    const known = this.usbSerials.get(device.id);
    if (known !== undefined) return known;
    let read: UsbSerial;
    try {
      const handle = await this.bus.open(device);
      try {
        const serial = parseIBootSerial(await handle.getStringDescriptor(device.serialNumberIndex, 2_000));
        read = {
          ecid: serial.ecid === undefined ? null : parseEcid(serial.ecid),
          serialNumber: serial.srnm || undefined,
        };
      } finally {
        await handle.close().catch(() => undefined);
      }
    } catch (error) {
      // A device leaving while we look, or one that lies in its serial string: not ours (yet).
      this.logger.debug(`could not read the serial of ${device.portPath}: ${(error as Error).message}`);
      return { ecid: null };
    }
    this.usbSerials.set(device.id, read);
    return read;
  }

  private async findOnUsbmux(
    usbDevices: UsbDeviceInfo[],
    signal?: AbortSignal,
  ): Promise<DeviceLocation | undefined> {
    let devices: UsbmuxDevice[];
    try {
      devices = await this.usbmux.listDevices({ signal });
      this.usbmuxError = undefined;
    } catch (error) {
      if (error instanceof UsbmuxError) {
        this.usbmuxError = error;
        return undefined;
      }
      throw error;
    }
    for (const device of devices) {
      if (device.connectionType !== 'USB') continue;
      const portPath = portPathOfLocation(device.locationId, usbDevices);
      if (this.portPath !== undefined && portPath !== undefined && portPath !== this.portPath) continue;
      const identity = await this.muxIdentityOf(device, signal);
      if (identity.ecid === this.ecid && identity.mode) {
        return {
          via: 'usbmux',
          mode: identity.mode,
          device,
          udid: device.serialNumber,
          portPath: portPath ?? this.portPath,
        };
      }
    }
    return undefined;
  }

  private async muxIdentityOf(device: UsbmuxDevice, signal?: AbortSignal): Promise<MuxIdentity> {
    const known = this.muxIdentities.get(device.deviceId);
    if (known?.mode && known.ecid) return known;
    const identity: MuxIdentity = { ...known };
    identity.ecid = ecidOfUdid(device.serialNumber) ?? identity.ecid;
    // Someone else's phone (by UDID) is not probed: we never talk to phones we do not own.
    if (identity.ecid !== undefined && identity.ecid !== this.ecid) {
      this.muxIdentities.set(device.deviceId, identity);
      return identity;
    }
    try {
      const probe = await probeMuxDevice(this.usbmux, device.deviceId, { knownEcid: identity.ecid });
      identity.mode = probe.mode;
      identity.ecid = probe.ecid;
    } catch (error) {
      signal?.throwIfAborted();
      this.logger.debug(`could not identify usbmux device ${device.deviceId}: ${(error as Error).message}`);
      return identity;
    }
    this.muxIdentities.set(device.deviceId, identity);
    return identity;
  }

  private async followUsbmux(signal: AbortSignal, onEvent: () => void): Promise<void> {
    try {
      const stream = await this.usbmux.listen({ signal });
      for await (const event of stream) {
        if (event.type === 'detached') this.muxIdentities.delete(event.deviceId);
        onEvent();
      }
    } catch {
      // usbmuxd down: the periodic re-check still finds USB-mode devices.
    }
  }
}

/** Linux usbmuxd's LocationID is `bus << 16 | device address`; the bus says which port that is. */
export function portPathOfLocation(
  locationId: number | undefined,
  usbDevices: UsbDeviceInfo[],
): string | undefined {
  if (locationId === undefined) return undefined;
  const busNumber = locationId >>> 16;
  const address = locationId & 0xffff;
  return usbDevices.find((d) => d.busNumber === busNumber && d.address === address)?.portPath;
}

/** Wakes a sleeper early when an event arrives. */
class Waker {
  private pending = false;
  private resolveSleep?: () => void;

  wake(): void {
    this.pending = true;
    this.resolveSleep?.();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        this.resolveSleep = undefined;
        this.pending = false;
        resolve();
      };
      const abort = () => {
        clearTimeout(timer);
        this.resolveSleep = undefined;
        reject(signal?.reason);
      };
      const timer = setTimeout(done, ms);
      this.resolveSleep = done;
      signal?.addEventListener('abort', abort, { once: true });
    });
  }
}
