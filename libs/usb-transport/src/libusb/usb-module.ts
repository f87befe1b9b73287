// The part of the `usb` package (2.x, legacy Device API) that LibusbBus uses, as an interface,
// and the one place that loads the package. Loading is lazy: `usb` is a native addon that
// initialises libusb when required, and most importers of @bench/usb-transport (the simulator,
// the engine's types, tests) never touch real hardware.

/** A LibUSBException: `errno` is a LIBUSB_ERROR_* code (negative) or, from transfers, a LIBUSB_TRANSFER_* status. */
export interface LibusbError {
  message: string;
  errno?: number;
}

export interface LibusbDeviceDescriptor {
  idVendor: number;
  idProduct: number;
  bDeviceClass: number;
  bcdUSB: number;
  iManufacturer: number;
  iProduct: number;
  iSerialNumber: number;
}

export interface LibusbInterface {
  claim(): void;
  release(callback: (error?: LibusbError) => void): void;
  setAltSetting(altSetting: number, callback: (error: LibusbError | undefined) => void): void;
}

export interface LibusbDevice {
  busNumber: number;
  deviceAddress: number;
  portNumbers: number[];
  deviceDescriptor: LibusbDeviceDescriptor;
  /** Timeout of the next control transfer (node usb reads it when the transfer is submitted). */
  timeout: number;
  readonly configDescriptor: { bConfigurationValue: number } | undefined;
  open(defaultConfig?: boolean): void;
  close(): void;
  setConfiguration(desired: number, callback: (error: LibusbError | undefined) => void): void;
  interface(number: number): LibusbInterface;
  controlTransfer(
    bmRequestType: number,
    bRequest: number,
    wValue: number,
    wIndex: number,
    dataOrLength: number | Buffer,
    callback: (error: LibusbError | undefined, data: Buffer | number | undefined) => void,
  ): unknown;
  reset(callback: (error?: LibusbError) => void): void;
}

export type HotplugListener = (type: 'attach' | 'detach', device: LibusbDevice) => void;

export interface UsbModule {
  getDeviceList(): LibusbDevice[];
  /** Subscribes to libusb hotplug; returns the unsubscribe function. */
  onHotplug(listener: HotplugListener): () => void;
  /**
   * One bulk transfer with its own timeout: `data` for OUT, a length for IN. The callback gets
   * the buffer and the bytes actually moved.
   */
  bulkTransfer(
    device: LibusbDevice,
    endpoint: number,
    dataOrLength: Buffer | number,
    timeoutMs: number,
    callback: (error: LibusbError | undefined, data: Buffer, actual: number) => void,
  ): void;
}

type UsbPackage = typeof import('usb');

let cached: UsbPackage | undefined;

/** Loads the native `usb` package on first use. */
export function requireUsbPackage(): UsbPackage {
  // A require() rather than an import: the addon must not load when this library is imported.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cached ??= require('usb') as UsbPackage;
  return cached;
}

/** The real `usb` package behind the UsbModule interface. */
export function loadUsbModule(): UsbModule {
  const usb = requireUsbPackage();
  return {
    getDeviceList: () => usb.getDeviceList(),
    onHotplug(listener) {
      const attach = (device: InstanceType<UsbPackage['Device']>) => listener('attach', device);
      const detach = (device: InstanceType<UsbPackage['Device']>) => listener('detach', device);
      usb.usb.on('attach', attach);
      usb.usb.on('detach', detach);
      return () => {
        usb.usb.off('attach', attach);
        usb.usb.off('detach', detach);
      };
    },
    bulkTransfer(device, endpoint, dataOrLength, timeoutMs, callback) {
      if (!(device instanceof usb.Device)) throw new TypeError('not a device of the usb package');
      const buffer = typeof dataOrLength === 'number' ? Buffer.alloc(dataOrLength) : dataOrLength;
      const transfer = new usb.Transfer(
        device,
        endpoint,
        usb.usb.LIBUSB_TRANSFER_TYPE_BULK,
        timeoutMs,
        (error: LibusbError | undefined, data: Buffer, actual: number) => callback(error, data, actual),
      );
      transfer.submit(buffer);
    },
  };
}
