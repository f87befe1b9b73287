// An open simulated device. Behaves as libusb does for the things bench relies on: per-call
// timeouts (the request is cancelled, as libusb discards the URB), 'no-device' once the device
// has left (also for calls in flight), 'closed' after close(), 'busy' for an interface another
// handle holds (as another process would), 'not-found' for alternate settings of unclaimed
// interfaces.
import { decodeUsbStringDescriptor, ProtocolError, stringDescriptorRequest } from '@bench/protocols';
import {
  DEFAULT_USB_TIMEOUT_MS,
  UsbTransportError,
  type ControlSetup,
  type UsbDeviceHandle,
  type UsbDeviceInfo,
} from '@bench/usb-transport';
import type { SimBusDevice } from './usb-function';

export class SimUsbDeviceHandle implements UsbDeviceHandle {
  private isClosed = false;
  private readonly claimed = new Set<number>();

  constructor(
    private readonly entry: SimBusDevice,
    private readonly onClose: () => void,
    /** Told about every request that reaches the device (first-contact timing). */
    private readonly onRequest?: (operation: string) => void,
  ) {}

  get device(): UsbDeviceInfo {
    return this.entry.info;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async getStringDescriptor(index: number, timeoutMs = DEFAULT_USB_TIMEOUT_MS): Promise<string> {
    if (index === 0) return '';
    const bytes = await this.controlIn(stringDescriptorRequest(index), 255, timeoutMs);
    try {
      return decodeUsbStringDescriptor(bytes);
    } catch (error) {
      if (error instanceof ProtocolError) throw new UsbTransportError('io', error.message);
      throw error;
    }
  }

  controlIn(setup: ControlSetup, length: number, timeoutMs = DEFAULT_USB_TIMEOUT_MS): Promise<Uint8Array> {
    return this.run('control IN', timeoutMs, async (signal) => {
      if (!(setup.bmRequestType & 0x80))
        throw new UsbTransportError('invalid', 'control IN with an OUT request type');
      const data = await this.entry.fn.control({ ...setup, wLength: length }, new Uint8Array(0), signal);
      return data.subarray(0, length);
    });
  }

  controlOut(
    setup: ControlSetup,
    data: Uint8Array = new Uint8Array(0),
    timeoutMs = DEFAULT_USB_TIMEOUT_MS,
  ): Promise<void> {
    return this.run('control OUT', timeoutMs, async (signal) => {
      if (setup.bmRequestType & 0x80)
        throw new UsbTransportError('invalid', 'control OUT with an IN request type');
      await this.entry.fn.control({ ...setup, wLength: data.length }, data, signal);
    });
  }

  setConfiguration(value: number): Promise<void> {
    return this.run('set configuration', DEFAULT_USB_TIMEOUT_MS, async () => {
      const others = [...this.entry.claims.values()].some((h) => h !== this);
      if (others) throw new UsbTransportError('busy', 'set configuration: another handle holds an interface');
      this.entry.fn.setConfiguration(value);
      this.entry.configuration = value;
    });
  }

  getConfiguration(): Promise<number> {
    return this.run('get configuration', DEFAULT_USB_TIMEOUT_MS, async () => this.entry.configuration);
  }

  claimInterface(iface: number): Promise<void> {
    return this.run('claim interface', DEFAULT_USB_TIMEOUT_MS, async () => {
      if (!this.entry.fn.descriptor.interfaces.some((i) => i.number === iface)) {
        throw new UsbTransportError('not-found', `claim interface ${iface}: no such interface`);
      }
      const holder = this.entry.claims.get(iface);
      if (holder && holder !== this)
        throw new UsbTransportError('busy', `interface ${iface} is claimed elsewhere`);
      this.entry.claims.set(iface, this);
      this.claimed.add(iface);
    });
  }

  releaseInterface(iface: number): Promise<void> {
    return this.run('release interface', DEFAULT_USB_TIMEOUT_MS, async () => {
      if (!this.claimed.has(iface))
        throw new UsbTransportError('not-found', `interface ${iface} is not claimed`);
      this.release(iface);
    });
  }

  setAlternateSetting(iface: number, alternate: number): Promise<void> {
    return this.run('set alternate setting', DEFAULT_USB_TIMEOUT_MS, async () => {
      if (!this.claimed.has(iface))
        throw new UsbTransportError('not-found', `interface ${iface} is not claimed`);
      this.entry.fn.setInterface(iface, alternate);
    });
  }

  bulkOut(endpoint: number, data: Uint8Array, timeoutMs = DEFAULT_USB_TIMEOUT_MS): Promise<void> {
    return this.run('bulk OUT', timeoutMs, (signal) => this.entry.fn.bulkOut(endpoint & 0x7f, data, signal));
  }

  bulkIn(endpoint: number, length: number, timeoutMs = DEFAULT_USB_TIMEOUT_MS): Promise<Uint8Array> {
    return this.run('bulk IN', timeoutMs, async (signal) => {
      const data = await this.entry.fn.bulkIn(endpoint | 0x80, length, signal);
      return data.subarray(0, length);
    });
  }

  /** Resolves even when the reset makes the device leave (libusb: NOT_FOUND, "re-enumerated"). */
  async reset(): Promise<void> {
    if (this.isClosed) throw new UsbTransportError('closed', 'reset: the handle is closed');
    if (this.entry.presence.signal.aborted) throw this.gone('reset');
    this.entry.fn.reset();
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const iface of [...this.claimed]) this.release(iface);
    this.onClose();
  }

  private release(iface: number): void {
    this.claimed.delete(iface);
    if (this.entry.claims.get(iface) === this) this.entry.claims.delete(iface);
  }

  /**
   * Runs one request against the device model with libusb's semantics: a timeout cancels it,
   * the device leaving fails it with 'no-device' even mid-flight.
   */
  private run<T>(
    operation: string,
    timeoutMs: number,
    body: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.isClosed)
      return Promise.reject(new UsbTransportError('closed', `${operation}: the handle is closed`));
    const presence = this.entry.presence.signal;
    if (presence.aborted) return Promise.reject(this.gone(operation));
    this.onRequest?.(operation);
    const timeout = new AbortController();
    const signal = AbortSignal.any([timeout.signal, presence]);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => timeout.abort(), timeoutMs);
      const onGone = () => reject(this.gone(operation));
      const onTimeout = () =>
        reject(new UsbTransportError('timeout', `${operation}: timed out after ${timeoutMs} ms`));
      presence.addEventListener('abort', onGone, { once: true });
      timeout.signal.addEventListener('abort', onTimeout, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        presence.removeEventListener('abort', onGone);
        timeout.signal.removeEventListener('abort', onTimeout);
      };
      body(signal).then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          cleanup();
          if (presence.aborted) reject(this.gone(operation));
          else if (timeout.signal.aborted)
            reject(new UsbTransportError('timeout', `${operation}: timed out after ${timeoutMs} ms`));
          else
            reject(
              error instanceof UsbTransportError
                ? error
                : new UsbTransportError('io', `${operation}: ${String(error)}`, {}, { cause: error }),
            );
        },
      );
    });
  }

  private gone(operation: string): UsbTransportError {
    return new UsbTransportError('no-device', `${operation}: ${this.entry.info.portPath} left the bus`);
  }
}
