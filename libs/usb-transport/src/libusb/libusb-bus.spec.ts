import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { UsbHotplugEvent } from '../bus/usb-bus';
import { UsbTransportError } from '../bus/usb-errors';
import { LibusbBus } from './libusb-bus';
import { fromTransferError } from './libusb-errors';
import { libusbPortPath, readSysfsSpeed, speedFromSysfs } from './libusb-paths';
import type { LibusbDevice, LibusbError, LibusbInterface, UsbModule } from './usb-module';

function libusbError(errno: number, message = 'LIBUSB_ERROR'): LibusbError {
  return Object.assign(new Error(message), { errno });
}

/** A stand-in for one node-usb Device: answers control transfers from a script. */
class FakeDevice implements LibusbDevice {
  timeout = 1000;
  opened = false;
  claimed = new Set<number>();
  controlError?: LibusbError;
  lastTimeout?: number;
  deviceDescriptor = {
    idVendor: 0x05ac,
    idProduct: 0x1281,
    bDeviceClass: 0,
    bcdUSB: 0x0200,
    iManufacturer: 2,
    iProduct: 3,
    iSerialNumber: 4,
  };
  configDescriptor = { bConfigurationValue: 1 };

  constructor(
    public busNumber: number,
    public deviceAddress: number,
    public portNumbers: number[],
  ) {}

  open(): void {
    this.opened = true;
  }
  close(): void {
    this.opened = false;
  }
  setConfiguration(desired: number, callback: (error: LibusbError | undefined) => void): void {
    this.configDescriptor = { bConfigurationValue: desired };
    callback(undefined);
  }
  interface(number: number): LibusbInterface {
    if (number > 1) throw new Error(`Interface not found for address: ${number}`);
    return {
      claim: () => {
        if (this.claimed.has(number)) throw libusbError(-6, 'LIBUSB_ERROR_BUSY');
        this.claimed.add(number);
      },
      release: (callback) => {
        this.claimed.delete(number);
        callback();
      },
      setAltSetting: (_alt, callback) => callback(undefined),
    };
  }
  controlTransfer(
    bmRequestType: number,
    bRequest: number,
    wValue: number,
    _wIndex: number,
    dataOrLength: number | Buffer,
    callback: (error: LibusbError | undefined, data: Buffer | number | undefined) => void,
  ): unknown {
    this.lastTimeout = this.timeout;
    setImmediate(() => {
      if (this.controlError) return callback(this.controlError, undefined);
      if (typeof dataOrLength !== 'number') return callback(undefined, dataOrLength.length);
      // GET_DESCRIPTOR(string 4)
      if (bmRequestType === 0x80 && bRequest === 6 && wValue === 0x0304) {
        const text = Buffer.from('CPID:8015 ECID:0000000000000001', 'utf16le');
        return callback(undefined, Buffer.concat([Uint8Array.of(text.length + 2, 3), text]));
      }
      callback(undefined, Buffer.alloc(Math.min(dataOrLength, 1)));
    });
    return this;
  }
  reset(callback: (error?: LibusbError) => void): void {
    callback(libusbError(-5, 'LIBUSB_ERROR_NOT_FOUND'));
  }
}

class FakeUsb implements UsbModule {
  devices: FakeDevice[] = [];
  readonly hotplug = new EventEmitter();
  bulkStatus?: number;

  getDeviceList(): LibusbDevice[] {
    return [...this.devices];
  }
  onHotplug(listener: (type: 'attach' | 'detach', device: LibusbDevice) => void): () => void {
    const attach = (d: LibusbDevice) => listener('attach', d);
    const detach = (d: LibusbDevice) => listener('detach', d);
    this.hotplug.on('attach', attach);
    this.hotplug.on('detach', detach);
    return () => {
      this.hotplug.off('attach', attach);
      this.hotplug.off('detach', detach);
    };
  }
  bulkTransfer(
    _device: LibusbDevice,
    _endpoint: number,
    dataOrLength: Buffer | number,
    _timeoutMs: number,
    callback: (error: LibusbError | undefined, data: Buffer, actual: number) => void,
  ): void {
    const buffer = typeof dataOrLength === 'number' ? Buffer.alloc(dataOrLength) : dataOrLength;
    setImmediate(() =>
      this.bulkStatus
        ? callback(libusbError(this.bulkStatus, '**UNKNOWN**'), buffer, 0)
        : callback(undefined, buffer, buffer.length),
    );
  }
  plug(device: FakeDevice): void {
    this.devices.push(device);
    this.hotplug.emit('attach', device);
  }
  unplug(device: FakeDevice): void {
    this.devices = this.devices.filter((d) => d !== device);
    this.hotplug.emit('detach', device);
  }
}

describe('port paths and speeds', () => {
  it('builds BUS-P.P.P from libusb port numbers, usbN for root hubs', () => {
    expect(libusbPortPath(1, [1, 4, 2])).toBe('1-1.4.2');
    expect(libusbPortPath(3, [2])).toBe('3-2');
    expect(libusbPortPath(2, [])).toBe('usb2');
    expect(libusbPortPath(2, undefined)).toBe('usb2');
  });

  it('reads sysfs speed', () => {
    expect(speedFromSysfs('480\n')).toBe('high');
    expect(speedFromSysfs('12')).toBe('full');
    expect(speedFromSysfs('1.5')).toBe('low');
    expect(speedFromSysfs('5000')).toBe('super');
    expect(speedFromSysfs('10000')).toBe('super-plus');
    expect(speedFromSysfs('weird')).toBe('unknown');
    const root = mkdtempSync(path.join(tmpdir(), 'sysfs-'));
    try {
      mkdirSync(path.join(root, '1-1.4'));
      writeFileSync(path.join(root, '1-1.4', 'speed'), '480\n');
      expect(readSysfsSpeed('1-1.4', root)).toBe('high');
      expect(readSysfsSpeed('1-9', root)).toBe('unknown');
    } finally {
      rmSync(root, { recursive: true });
    }
  });
});

describe('fromTransferError', () => {
  it.each([
    [2, 'timeout'],
    [4, 'pipe'],
    [5, 'no-device'],
    [6, 'overflow'],
    [1, 'io'],
    [3, 'interrupted'],
    [-4, 'no-device'],
    [-3, 'access'],
  ])('maps errno %i to %s', (errno, kind) => {
    expect(fromTransferError(libusbError(errno), 'op').kind).toBe(kind);
  });

  it('names transfer statuses that node usb calls **UNKNOWN**', () => {
    expect(fromTransferError(libusbError(2, '**UNKNOWN**'), 'bulk IN').message).toBe(
      'bulk IN: LIBUSB_TRANSFER_TIMED_OUT',
    );
  });
});

describe('LibusbBus', () => {
  function setup() {
    const usb = new FakeUsb();
    const recovery = new FakeDevice(1, 7, [1, 3]);
    usb.devices.push(recovery);
    const bus = new LibusbBus({ usb, readSpeed: (p) => (p === '1-1.3' ? 'high' : 'unknown') });
    return { usb, recovery, bus };
  }

  it('lists devices with stable ids, port paths, descriptor indexes and sysfs speed', async () => {
    const { bus } = setup();
    const [first] = await bus.list();
    expect(first).toMatchObject({
      portPath: '1-1.3',
      busNumber: 1,
      address: 7,
      vendorId: 0x05ac,
      productId: 0x1281,
      speed: 'high',
      serialNumberIndex: 4,
    });
    expect((await bus.list())[0].id).toBe(first.id);
  });

  it('turns hotplug into attach/detach events and gone devices into no-device', async () => {
    const { usb, recovery, bus } = setup();
    const events: UsbHotplugEvent[] = [];
    const unwatch = bus.watch((e) => events.push(e));
    const [info] = await bus.list();
    const handle = await bus.open(info);
    usb.unplug(recovery);
    const dfu = new FakeDevice(1, 8, [1, 3]);
    dfu.deviceDescriptor = { ...dfu.deviceDescriptor, idProduct: 0x1227 };
    usb.plug(dfu);
    expect(events.map((e) => [e.type, e.device.portPath, e.device.productId])).toEqual([
      ['detach', '1-1.3', 0x1281],
      ['attach', '1-1.3', 0x1227],
    ]);
    expect(events[1].device.id).not.toBe(info.id);
    await expect(handle.getStringDescriptor(4)).rejects.toMatchObject({ kind: 'no-device' });
    await expect(bus.open(info)).rejects.toMatchObject({ kind: 'no-device' });
    unwatch();
  });

  it('notices a vanished device from the list even without a watcher', async () => {
    const { usb, recovery, bus } = setup();
    const [info] = await bus.list();
    usb.devices = [];
    expect(await bus.list()).toEqual([]);
    await expect(bus.open(info)).rejects.toMatchObject({ kind: 'no-device' });
    void recovery;
  });

  it('reads string descriptors through control IN with the per-call timeout', async () => {
    const { recovery, bus } = setup();
    const handle = await bus.open((await bus.list())[0]);
    expect(await handle.getStringDescriptor(4, 1234)).toBe('CPID:8015 ECID:0000000000000001');
    expect(recovery.lastTimeout).toBe(1234);
  });

  it('maps transfer statuses and synchronous errors', async () => {
    const { usb, recovery, bus } = setup();
    const handle = await bus.open((await bus.list())[0]);
    recovery.controlError = libusbError(4, '**UNKNOWN**');
    await expect(
      handle.controlIn({ bmRequestType: 0xc0, bRequest: 0, wValue: 0, wIndex: 0 }, 255),
    ).rejects.toMatchObject({
      kind: 'pipe',
    });
    usb.bulkStatus = 2;
    await expect(handle.bulkIn(0x81, 64)).rejects.toMatchObject({ kind: 'timeout' });
    await handle.claimInterface(0);
    const other = await bus.open((await bus.list())[0]);
    await expect(other.claimInterface(0)).rejects.toMatchObject({ kind: 'busy' });
    await expect(handle.claimInterface(5)).rejects.toMatchObject({ kind: 'not-found' });
    await expect(
      handle.controlOut({ bmRequestType: 0xc0, bRequest: 0, wValue: 0, wIndex: 0 }),
    ).rejects.toMatchObject({
      kind: 'invalid',
    });
  });

  it('counts a reset that ends the enumeration as done, and rejects closed handles', async () => {
    const { recovery, bus } = setup();
    const handle = await bus.open((await bus.list())[0]);
    await handle.claimInterface(0);
    await expect(handle.reset()).resolves.toBeUndefined();
    await handle.close();
    expect(recovery.claimed.size).toBe(0);
    expect(recovery.opened).toBe(false);
    const error = await handle.bulkOut(0x04, Buffer.alloc(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsbTransportError);
    expect(error).toMatchObject({ kind: 'closed' });
  });

  it('shares the libusb device between handles and closes it with the last one', async () => {
    const { recovery, bus } = setup();
    const info = (await bus.list())[0];
    const first = await bus.open(info);
    const second = await bus.open(info);
    await first.close();
    expect(recovery.opened).toBe(true);
    await second.close();
    expect(recovery.opened).toBe(false);
  });

  it('refuses use after close', async () => {
    const { bus } = setup();
    await bus.close();
    await expect(bus.list()).rejects.toMatchObject({ kind: 'closed' });
  });
});
