// The USB seam: everything the agent and the restore engine do with USB goes through these
// interfaces. Two implementations pass one conformance suite: LibusbBus (the `usb` package,
// real hardware or umockdev) and the simulator's bus (libs/device-sim).

export type UsbSpeed = 'low' | 'full' | 'high' | 'super' | 'super-plus' | 'unknown';

/** Link speed in Mbit/s, for health and admission control. */
export const USB_SPEED_MBPS: Record<UsbSpeed, number | undefined> = {
  low: 1.5,
  full: 12,
  high: 480,
  super: 5000,
  'super-plus': 10000,
  unknown: undefined,
};

export interface UsbDeviceInfo {
  /** Unique for this enumeration of the device; a re-enumeration (mode change) gets a new id. */
  id: string;
  /** Location path `BUS-P.P.P`: stable across re-plugging and mode changes. */
  portPath: string;
  busNumber: number;
  address: number;
  vendorId: number;
  productId: number;
  deviceClass: number;
  speed: UsbSpeed;
  /** String descriptor indexes from the device descriptor (0 = none). */
  manufacturerIndex: number;
  productIndex: number;
  serialNumberIndex: number;
}

export type UsbHotplugEvent =
  { type: 'attach'; device: UsbDeviceInfo } | { type: 'detach'; device: UsbDeviceInfo };

export interface ControlSetup {
  bmRequestType: number;
  bRequest: number;
  wValue: number;
  wIndex: number;
}

export interface UsbBus {
  /** Devices present now. */
  list(): Promise<UsbDeviceInfo[]>;
  /** Attach/detach notifications; returns the unsubscribe function. */
  watch(listener: (event: UsbHotplugEvent) => void): () => void;
  /** Opens a device listed or announced by this bus. Throws UsbTransportError('no-device') when gone. */
  open(device: UsbDeviceInfo): Promise<UsbDeviceHandle>;
  /** Stops hotplug watching and releases the bus. */
  close(): Promise<void>;
}

/**
 * An open device. Every method rejects with UsbTransportError; once the device is gone every
 * call rejects with kind 'no-device', and after close() with kind 'closed'.
 */
export interface UsbDeviceHandle {
  readonly device: UsbDeviceInfo;
  readonly closed: boolean;
  /** ASCII/UTF-16 string descriptor (language 0x0409). */
  getStringDescriptor(index: number, timeoutMs?: number): Promise<string>;
  controlIn(setup: ControlSetup, length: number, timeoutMs?: number): Promise<Uint8Array>;
  controlOut(setup: ControlSetup, data?: Uint8Array, timeoutMs?: number): Promise<void>;
  setConfiguration(value: number): Promise<void>;
  getConfiguration(): Promise<number>;
  claimInterface(iface: number): Promise<void>;
  releaseInterface(iface: number): Promise<void>;
  setAlternateSetting(iface: number, alternate: number): Promise<void>;
  bulkOut(endpoint: number, data: Uint8Array, timeoutMs?: number): Promise<void>;
  bulkIn(endpoint: number, length: number, timeoutMs?: number): Promise<Uint8Array>;
  /** USB port reset; the device may re-enumerate (this handle then reports 'no-device'). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_USB_TIMEOUT_MS = 10_000;
