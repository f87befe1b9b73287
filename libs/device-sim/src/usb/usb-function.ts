// What a simulated USB device answers, independent of how requests reach it: the simulated bus
// calls these methods directly; a umockdev bridge can call them from usbdevfs URBs. Errors are
// UsbTransportError: kind 'pipe' is a STALL, 'no-device' means the device left.
import type { ControlSetup, UsbDeviceInfo } from '@bench/usb-transport';

export interface SimControlSetup extends ControlSetup {
  wLength: number;
}

export interface SimInterface {
  number: number;
  /** Alternate settings with the endpoints each one exposes. */
  alternates: { alternate: number; endpoints: { address: number; maxPacketSize: number }[] }[];
  interfaceClass: number;
  interfaceSubClass: number;
  interfaceProtocol: number;
}

export interface SimDeviceDescriptor {
  vendorId: number;
  productId: number;
  deviceClass: number;
  bcdUSB: number;
  bcdDevice: number;
  maxPacketSize0: number;
  manufacturerIndex: number;
  productIndex: number;
  serialNumberIndex: number;
  /** The one configuration (value 1) every simulated device has. */
  interfaces: SimInterface[];
  /** bMaxPower in mA. */
  maxPowerMa: number;
}

export interface SimUsbFunction {
  readonly descriptor: SimDeviceDescriptor;
  /** String descriptor text by index (0 and unknown indexes: undefined). */
  stringDescriptor(index: number): string | undefined;
  /**
   * A control transfer. IN requests resolve with at most `wLength` bytes, OUT requests with an
   * empty array. `signal` aborts when the host gives up (timeout) or the device leaves.
   */
  control(setup: SimControlSetup, data: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
  bulkOut(endpoint: number, data: Uint8Array, signal: AbortSignal): Promise<void>;
  /** Pending until data is available or `signal` aborts. */
  bulkIn(endpoint: number, length: number, signal: AbortSignal): Promise<Uint8Array>;
  setConfiguration(value: number): void;
  setInterface(iface: number, alternate: number): void;
  /** A USB port reset (libusb_reset_device). */
  reset(): void;
  /** The device left the bus: stop timers and anything pending. */
  dispose(): void;
}

/** One enumeration of a device on a simulated bus, as its open handles share it. */
export interface SimBusDevice {
  info: UsbDeviceInfo;
  fn: SimUsbFunction;
  /** Aborted (with a 'no-device' error) when the device leaves. */
  presence: AbortController;
  configuration: number;
  /** Which open handle holds each claimed interface. */
  claims: Map<number, object>;
}
