// An open libusb device behind the UsbDeviceHandle interface. Every failure becomes a
// UsbTransportError; once the bus has seen the device detach, calls fail with 'no-device'
// before touching libusb, and after close() with 'closed'.
import { decodeUsbStringDescriptor, stringDescriptorRequest } from '@bench/protocols';
import {
  DEFAULT_USB_TIMEOUT_MS,
  type ControlSetup,
  type UsbDeviceHandle,
  type UsbDeviceInfo,
} from '../bus/usb-bus';
import { fromLibusbError, UsbTransportError } from '../bus/usb-errors';
import { fromTransferError } from './libusb-errors';
import type { LibusbDevice, LibusbError, UsbModule } from './usb-module';

const ENDPOINT_IN = 0x80;
/** libusb_reset_device: re-enumeration required or device gone; for iBoot devices both mean "reset done". */
const RESET_ENDED_ENUMERATION = new Set([-4, -5]);

export class LibusbDeviceHandle implements UsbDeviceHandle {
  private isClosed = false;
  private readonly claimed = new Set<number>();

  constructor(
    readonly device: UsbDeviceInfo,
    private readonly raw: LibusbDevice,
    private readonly usb: UsbModule,
    private readonly isGone: () => boolean,
    /** Closes the libusb device once no other handle of this bus uses it. */
    private readonly onClose: () => void,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  async getStringDescriptor(index: number, timeoutMs = DEFAULT_USB_TIMEOUT_MS): Promise<string> {
    if (index === 0) return '';
    const bytes = await this.controlIn(stringDescriptorRequest(index), 255, timeoutMs);
    try {
      return decodeUsbStringDescriptor(bytes);
    } catch (error) {
      throw new UsbTransportError('io', `string descriptor ${index}: ${(error as Error).message}`);
    }
  }

  controlIn(setup: ControlSetup, length: number, timeoutMs = DEFAULT_USB_TIMEOUT_MS): Promise<Uint8Array> {
    return this.run('control IN', () => {
      if (!(setup.bmRequestType & ENDPOINT_IN)) {
        throw new UsbTransportError(
          'invalid',
          `control IN with an OUT request type 0x${setup.bmRequestType.toString(16)}`,
        );
      }
      return this.control(setup, length, timeoutMs).then((data) =>
        Buffer.isBuffer(data) ? data : Buffer.alloc(0),
      );
    });
  }

  controlOut(
    setup: ControlSetup,
    data: Uint8Array = new Uint8Array(0),
    timeoutMs = DEFAULT_USB_TIMEOUT_MS,
  ): Promise<void> {
    return this.run('control OUT', async () => {
      if (setup.bmRequestType & ENDPOINT_IN) {
        throw new UsbTransportError(
          'invalid',
          `control OUT with an IN request type 0x${setup.bmRequestType.toString(16)}`,
        );
      }
      const sent = await this.control(
        setup,
        Buffer.from(data.buffer, data.byteOffset, data.length),
        timeoutMs,
      );
      if (typeof sent === 'number' && sent !== data.length) {
        throw new UsbTransportError('io', `control OUT sent ${sent} of ${data.length} bytes`);
      }
    });
  }

  setConfiguration(value: number): Promise<void> {
    return this.run('set configuration', () =>
      callback((done) => this.raw.setConfiguration(value, done), 'set configuration'),
    );
  }

  getConfiguration(): Promise<number> {
    return this.run('get configuration', async () => this.raw.configDescriptor?.bConfigurationValue ?? 0);
  }

  claimInterface(iface: number): Promise<void> {
    return this.run('claim interface', async () => {
      this.interfaceOf(iface).claim();
      this.claimed.add(iface);
    });
  }

  releaseInterface(iface: number): Promise<void> {
    return this.run('release interface', async () => {
      await callback((done) => this.interfaceOf(iface).release(done), 'release interface');
      this.claimed.delete(iface);
    });
  }

  setAlternateSetting(iface: number, alternate: number): Promise<void> {
    return this.run('set alternate setting', () =>
      callback((done) => this.interfaceOf(iface).setAltSetting(alternate, done), 'set alternate setting'),
    );
  }

  bulkOut(endpoint: number, data: Uint8Array, timeoutMs = DEFAULT_USB_TIMEOUT_MS): Promise<void> {
    return this.run('bulk OUT', async () => {
      const buffer = Buffer.from(data.buffer, data.byteOffset, data.length);
      const { actual } = await this.bulk(endpoint & ~ENDPOINT_IN, buffer, timeoutMs, 'bulk OUT');
      if (actual !== data.length) {
        throw new UsbTransportError(
          'io',
          `bulk OUT 0x${endpoint.toString(16)} sent ${actual} of ${data.length} bytes`,
        );
      }
    });
  }

  bulkIn(endpoint: number, length: number, timeoutMs = DEFAULT_USB_TIMEOUT_MS): Promise<Uint8Array> {
    return this.run('bulk IN', async () => {
      const { data, actual } = await this.bulk(endpoint | ENDPOINT_IN, length, timeoutMs, 'bulk IN');
      return data.subarray(0, actual);
    });
  }

  reset(): Promise<void> {
    return this.run(
      'reset',
      () =>
        new Promise<void>((resolve, reject) => {
          this.raw.reset((error) => {
            if (!error || RESET_ENDED_ENUMERATION.has(Number(error.errno))) resolve();
            else reject(fromLibusbError(error, 'reset'));
          });
        }),
    );
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const iface of this.claimed) {
      await callback((done) => this.raw.interface(iface).release(done), 'release interface').catch(
        () => undefined,
      );
    }
    this.claimed.clear();
    this.onClose();
  }

  private async run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (this.isClosed) throw new UsbTransportError('closed', `${operation}: the handle is closed`);
    if (this.isGone())
      throw new UsbTransportError('no-device', `${operation}: ${this.device.portPath} is gone`);
    try {
      return await body();
    } catch (error) {
      throw fromLibusbError(error, operation);
    }
  }

  private interfaceOf(iface: number) {
    try {
      return this.raw.interface(iface);
    } catch (error) {
      // node usb throws a plain Error for an interface the active configuration lacks.
      throw new UsbTransportError(
        'not-found',
        `interface ${iface}: ${(error as Error).message}`,
        {},
        { cause: error },
      );
    }
  }

  private control(setup: ControlSetup, dataOrLength: Buffer | number, timeoutMs: number) {
    return new Promise<Buffer | number | undefined>((resolve, reject) => {
      this.raw.timeout = timeoutMs;
      this.raw.controlTransfer(
        setup.bmRequestType,
        setup.bRequest,
        setup.wValue,
        setup.wIndex,
        dataOrLength,
        (error, data) => (error ? reject(fromTransferError(error, 'control transfer')) : resolve(data)),
      );
    });
  }

  private bulk(endpoint: number, dataOrLength: Buffer | number, timeoutMs: number, operation: string) {
    return new Promise<{ data: Buffer; actual: number }>((resolve, reject) => {
      try {
        this.usb.bulkTransfer(this.raw, endpoint, dataOrLength, timeoutMs, (error, data, actual) =>
          error ? reject(fromTransferError(error, operation)) : resolve({ data, actual }),
        );
      } catch (error) {
        reject(fromLibusbError(error, operation));
      }
    });
  }
}

function callback(start: (done: (error?: LibusbError) => void) => void, operation: string): Promise<void> {
  return new Promise((resolve, reject) => {
    start((error) => (error ? reject(fromLibusbError(error, operation)) : resolve()));
  });
}
