// The real USB bus: node `usb` 2.x (bundled libusb) behind the UsbBus interface. Under umockdev
// the same code talks to an emulated device (docs/reference/umockdev-usb-emulation.md).
import type { UsbBus, UsbDeviceHandle, UsbDeviceInfo, UsbHotplugEvent, UsbSpeed } from '../bus/usb-bus';
import { fromLibusbError, UsbTransportError } from '../bus/usb-errors';
import { LibusbDeviceHandle } from './libusb-handle';
import { libusbPortPath, readSysfsSpeed } from './libusb-paths';
import { loadUsbModule, type LibusbDevice, type UsbModule } from './usb-module';

export interface LibusbBusOptions {
  /** The `usb` package (or a stand-in with the same shape); loaded on first use when absent. */
  usb?: UsbModule;
  /** Negotiated speed of the device at a port path; sysfs by default. */
  readSpeed?: (portPath: string) => UsbSpeed;
}

export class LibusbBus implements UsbBus {
  private readonly usb: UsbModule;
  private readonly readSpeed: (portPath: string) => UsbSpeed;
  /** node usb keeps one Device object per libusb device, so the object is the enumeration's key. */
  private readonly known = new WeakMap<LibusbDevice, UsbDeviceInfo>();
  private readonly raw = new Map<string, LibusbDevice>();
  private readonly gone = new WeakSet<LibusbDevice>();
  private readonly listeners = new Set<(event: UsbHotplugEvent) => void>();
  private readonly handles = new Set<UsbDeviceHandle>();
  /** node usb shares one Device object (and one libusb handle) per device: count our users. */
  private readonly openCount = new Map<LibusbDevice, number>();
  private unsubscribe?: () => void;
  private sequence = 0;
  private isClosed = false;

  constructor(options: LibusbBusOptions = {}) {
    this.usb = options.usb ?? loadUsbModule();
    this.readSpeed = options.readSpeed ?? ((portPath) => readSysfsSpeed(portPath));
  }

  async list(): Promise<UsbDeviceInfo[]> {
    this.checkOpen('list');
    let devices: LibusbDevice[];
    try {
      devices = this.usb.getDeviceList();
    } catch (error) {
      throw fromLibusbError(error, 'list devices');
    }
    // Without a hotplug watcher, a device missing from the list is how we learn it left.
    const present = new Set(devices);
    for (const [id, raw] of this.raw) {
      if (!present.has(raw)) {
        this.gone.add(raw);
        this.raw.delete(id);
      }
    }
    return devices.filter((d) => !this.gone.has(d)).map((d) => this.infoOf(d));
  }

  watch(listener: (event: UsbHotplugEvent) => void): () => void {
    this.checkOpen('watch');
    this.listeners.add(listener);
    this.unsubscribe ??= this.usb.onHotplug((type, device) => this.onHotplug(type, device));
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopHotplug();
    };
  }

  async open(device: UsbDeviceInfo): Promise<UsbDeviceHandle> {
    this.checkOpen('open');
    const raw = this.raw.get(device.id);
    if (!raw || this.gone.has(raw)) {
      throw new UsbTransportError('no-device', `open: ${device.portPath} (${device.id}) is gone`);
    }
    const users = this.openCount.get(raw) ?? 0;
    if (users === 0) {
      try {
        raw.open();
      } catch (error) {
        throw fromLibusbError(error, `open ${device.portPath}`);
      }
    }
    this.openCount.set(raw, users + 1);
    const handle: LibusbDeviceHandle = new LibusbDeviceHandle(
      device,
      raw,
      this.usb,
      () => this.gone.has(raw),
      () => this.release(raw, handle),
    );
    this.handles.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.listeners.clear();
    this.stopHotplug();
    await Promise.all([...this.handles].map((h) => h.close()));
    this.handles.clear();
  }

  private release(raw: LibusbDevice, handle: UsbDeviceHandle): void {
    this.handles.delete(handle);
    const users = (this.openCount.get(raw) ?? 1) - 1;
    if (users > 0) {
      this.openCount.set(raw, users);
      return;
    }
    this.openCount.delete(raw);
    try {
      raw.close();
    } catch {
      // Closing a device that vanished can throw; the handle is closed either way.
    }
  }

  private onHotplug(type: 'attach' | 'detach', device: LibusbDevice): void {
    const info = this.infoOf(device);
    if (type === 'detach') {
      this.gone.add(device);
      this.raw.delete(info.id);
    }
    for (const listener of [...this.listeners]) listener({ type, device: info });
  }

  private infoOf(device: LibusbDevice): UsbDeviceInfo {
    const existing = this.known.get(device);
    if (existing) return existing;
    const portPath = libusbPortPath(device.busNumber, device.portNumbers);
    const descriptor = device.deviceDescriptor;
    const info: UsbDeviceInfo = {
      id: `usb:${device.busNumber}-${device.deviceAddress}#${++this.sequence}`,
      portPath,
      busNumber: device.busNumber,
      address: device.deviceAddress,
      vendorId: descriptor.idVendor,
      productId: descriptor.idProduct,
      deviceClass: descriptor.bDeviceClass,
      speed: this.readSpeed(portPath),
      manufacturerIndex: descriptor.iManufacturer,
      productIndex: descriptor.iProduct,
      serialNumberIndex: descriptor.iSerialNumber,
    };
    this.known.set(device, info);
    this.raw.set(info.id, device);
    return info;
  }

  private stopHotplug(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private checkOpen(operation: string): void {
    if (this.isClosed) throw new UsbTransportError('closed', `${operation}: the bus is closed`);
  }
}

/** The real bus; loads the native `usb` package now (not when @bench/usb-transport is imported). */
export function createLibusbBus(options: Omit<LibusbBusOptions, 'usb'> = {}): LibusbBus {
  return new LibusbBus({ ...options, usb: loadUsbModule() });
}
