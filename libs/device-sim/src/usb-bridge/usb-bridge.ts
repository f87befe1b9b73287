// The device side of USB-level emulation: mirrors a SimulatedUsbBus into a umockdev testbed
// (through the harness in test/usb-emulation, connected over a Unix socket) and serves the
// usbdevfs requests the harness forwards with the simulator's own device models, so real libusb
// programs (irecovery, the `usb` package) talk to simulated phones. Device behaviour stays in
// IBootDevice; the harness only translates usbdevfs ioctls.
//
// What is mirrored: a root hub per controller (and a SuperSpeed one, see startMirroring), the
// simulated hubs (topology only: libusb builds port paths from their sysfs directories), and
// every DFU/recovery enumeration, served by its IBootDevice. A phone in normal or restore mode
// is not mirrored: bench reaches it through the simulator's usbmuxd.
// Every attach/detach of the simulated bus becomes an add/remove with uevents, in order.
import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { decodeUsbStringDescriptor, ProtocolError, stringDescriptorRequest } from '@bench/protocols';
import { UsbTransportError, type UsbDeviceInfo, type UsbHotplugEvent } from '@bench/usb-transport';
import { IBootDevice } from '../usb/iboot-device';
import { encodeSysfsDescriptors } from '../usb/usb-descriptors';
import type { SimulatedUsbBus } from '../usb/simulated-usb-bus';
import { BridgeFrameDecoder, encodeBridgeFrame, HarnessMessage, type BridgeMessage } from './bridge-protocol';
import { devnodeOf, rootHubDevice, sysfsPathOf, umockdevRecord, type SysfsDevice } from './sysfs-records';

const { errno } = constants;
const GET_DESCRIPTOR_DEVICE = { bmRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0 };
const GET_DESCRIPTOR_CONFIG = { bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0 };

export interface UsbBridgeOptions {
  bus: SimulatedUsbBus;
  /** Unix socket the harness connects to. */
  socketPath: string;
  /** Told about harness failures and protocol errors (a test fails on them). */
  onError?: (error: Error) => void;
}

/** One change the bridge made to the testbed (tests follow re-enumerations with it). */
export interface BridgeEvent {
  type: 'add' | 'remove';
  portPath: string;
  busNumber: number;
  address: number;
  vendorId: number;
  productId: number;
  /** Whether usbdevfs requests on it reach a device model (false: topology only). */
  served: boolean;
}

interface MirroredDevice {
  info: UsbDeviceInfo;
  /** Serves forwarded requests; undefined for topology-only devices (hubs). */
  fn?: IBootDevice;
  /** Aborted when the device leaves the simulated bus. */
  presence: AbortController;
}

type HarnessRequest = Extract<HarnessMessage, { t: 'urb' } | { t: 'call' }>;

export class UsbBridge {
  private readonly devices = new Map<string, MirroredDevice>();
  private readonly inflight = new Map<number, AbortController>();
  private readonly decoder = new BridgeFrameDecoder(HarnessMessage);
  /** add/remove messages in bus order; each waits for the work before it. */
  private queue: Promise<void> = Promise.resolve();
  /** add/remove messages the harness has not answered yet, oldest first. */
  private readonly unanswered: { type: 'add' | 'remove'; dev: string; what: string }[] = [];
  private readonly settleWaiters: (() => void)[] = [];
  private readonly failures: Error[] = [];
  /** Every add and remove sent to the harness, in order. */
  readonly history: BridgeEvent[] = [];
  /** Ids of what is in the testbed at each bus/address, for the history of its removal. */
  private readonly added = new Map<string, Pick<BridgeEvent, 'vendorId' | 'productId' | 'served'>>();
  private socket?: Socket;
  private unwatch?: () => void;
  private hello?: { resolve: (root: string) => void; reject: (error: Error) => void };
  private readonly helloPromise: Promise<string>;
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly options: UsbBridgeOptions,
  ) {
    this.helloPromise = new Promise<string>((resolve, reject) => (this.hello = { resolve, reject }));
    this.helloPromise.catch(() => undefined);
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listens on `socketPath`; start the harness with that path next. */
  static async listen(options: UsbBridgeOptions): Promise<UsbBridge> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.socketPath, () => resolve());
    });
    return new UsbBridge(server, options);
  }

  /** The testbed root (UMOCKDEV_DIR for programs under test) once the harness said hello. */
  connected(timeoutMs: number): Promise<string> {
    return withTimeout(this.helloPromise, timeoutMs, 'the umockdev harness did not connect');
  }

  /**
   * Resolves when the testbed shows the simulated bus as it is now (every add/remove done);
   * rejects at once with the first harness error (an add or remove it failed is never answered).
   */
  async settled(timeoutMs = 10_000): Promise<void> {
    const idle = new Promise<void>((resolve) => {
      const check = () =>
        this.unanswered.length === 0 || this.failures.length ? resolve() : this.settleWaiters.push(check);
      void this.queue.then(check);
    });
    await withTimeout(idle, timeoutMs, 'the umockdev testbed did not catch up with the simulated bus', () =>
      this.unanswered.length ? ` (unanswered: ${this.unanswered.map((u) => u.what).join(', ')})` : '',
    );
    this.throwFailures();
  }

  /** Harness errors seen so far (also passed to onError). */
  get errors(): readonly Error[] {
    return this.failures;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unwatch?.();
    for (const cancel of this.inflight.values()) cancel.abort();
    for (const device of this.devices.values()) device.presence.abort();
    this.hello?.reject(new Error('the USB bridge closed'));
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      socket.end(encodeBridgeFrame({ t: 'quit' }));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          socket.destroy();
          resolve();
        }, 5_000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.options.socketPath);
    } catch {
      // Already gone (node removes it on close on some platforms).
    }
  }

  // ── harness connection ────────────────────────────────────────────────────────────

  private accept(socket: Socket): void {
    if (this.socket) {
      socket.destroy();
      return this.fail(new Error('a second harness connected to the USB bridge'));
    }
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => {
      if (!this.closed) this.fail(error);
    });
    socket.on('close', () => {
      if (!this.closed) this.fail(new Error('the umockdev harness went away'));
    });
  }

  private receive(chunk: Buffer): void {
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.fail(error instanceof Error ? error : new ProtocolError(String(error), 'usb bridge'));
      this.socket?.destroy();
      return;
    }
    for (const { message, body } of frames) this.dispatch(message, body);
  }

  private dispatch(message: HarnessMessage, body: Buffer): void {
    switch (message.t) {
      case 'hello':
        this.hello?.resolve(message.root);
        this.startMirroring();
        return;
      case 'urb':
      case 'call':
        void this.serve(message, body);
        return;
      case 'cancel':
        this.inflight.get(message.seq)?.abort();
        return;
      case 'added':
        return this.acknowledge('add', message.dev);
      case 'removed':
        return this.acknowledge('remove', message.dev);
      case 'error':
        this.fail(new Error(`umockdev harness${message.dev ? ` (${message.dev})` : ''}: ${message.message}`));
        return;
    }
  }

  private send(message: BridgeMessage, body?: Uint8Array): void {
    const socket = this.socket;
    if (socket && !socket.destroyed) socket.write(encodeBridgeFrame(message, body));
  }

  private fail(error: Error): void {
    this.failures.push(error);
    this.options.onError?.(error);
    this.wakeSettleWaiters();
  }

  private throwFailures(): void {
    if (this.failures.length) throw this.failures[0];
  }

  // ── mirroring ─────────────────────────────────────────────────────────────────────

  private startMirroring(): void {
    const bus = this.options.bus;
    this.unwatch = bus.watch((event) => this.onHotplug(event));
    const buses = new Set(bus.hubPaths().map((p) => Number(p.split('-')[0])));
    const roots = [...buses].sort((a, b) => a - b).map((n) => rootHubDevice(n, 'high'));
    // libirecovery 1.0.0 keeps looping over the device list it freed after opening its device;
    // the allocator overwrites the list's first two slots, so whether that crashes depends on the
    // heap, unless the device it opened comes later in the list. libusb lists the last device of
    // its (path-sorted) scan first; on a real PC that is a root hub, since an xHCI's SuperSpeed
    // bus comes after its USB 2.0 bus. The same SuperSpeed root hub sorts last here.
    roots.push(rootHubDevice(Math.max(0, ...buses) + 1, 'super'));
    for (const root of roots) this.enqueue(async () => this.add(`root:${root.portPath}`, root, false, []));
    void bus.list().then((devices) => {
      // Parents before children: a hub's directory must exist before the phones on its ports.
      const ordered = [...devices].sort((a, b) => a.portPath.length - b.portPath.length);
      for (const info of ordered) if (!this.devices.has(info.id)) this.attach(info);
    });
  }

  private onHotplug(event: UsbHotplugEvent): void {
    if (event.type === 'attach') this.attach(event.device);
    else this.detach(event.device);
  }

  private attach(info: UsbDeviceInfo): void {
    const bus = this.options.bus;
    if (info.deviceClass === 0x09) {
      this.devices.set(info.id, { info, presence: new AbortController() });
      this.enqueue(async () => this.add(info.id, await this.hubRecord(info), false, []));
      return;
    }
    // The device on the port now is this enumeration (checked before it can change again).
    const fn = bus.deviceAt(info.portPath)?.id === info.id ? bus.ibootDeviceAt(info.portPath) : undefined;
    if (!fn) return; // normal/restore mode: usbmuxd's, not libusb's
    this.devices.set(info.id, { info, fn, presence: new AbortController() });
    const d = fn.descriptor;
    const record: SysfsDevice = {
      portPath: info.portPath,
      busNumber: info.busNumber,
      address: info.address,
      speed: info.speed,
      descriptors: encodeSysfsDescriptors(d),
      strings: {
        manufacturer: fn.stringDescriptor(d.manufacturerIndex),
        product: fn.stringDescriptor(d.productIndex),
        serial: fn.stringDescriptor(d.serialNumberIndex),
      },
    };
    const interfaces = d.interfaces.map((i) => i.number);
    this.enqueue(async () => this.add(info.id, record, true, interfaces));
  }

  private detach(info: UsbDeviceInfo): void {
    const device = this.devices.get(info.id);
    if (!device) return;
    this.devices.delete(info.id);
    device.presence.abort();
    this.enqueue(async () => {
      const event: BridgeEvent = {
        type: 'remove',
        ...this.describe(info.portPath, info.busNumber, info.address),
      };
      this.history.push(event);
      this.expectAnswer(event, info.id);
      this.send({ t: 'remove', dev: info.id });
    });
  }

  private add(dev: string, device: SysfsDevice, serve: boolean, interfaces: number[]): void {
    this.added.set(`${device.busNumber}/${device.address}`, {
      vendorId: device.descriptors.readUInt16LE(8),
      productId: device.descriptors.readUInt16LE(10),
      served: serve,
    });
    const event: BridgeEvent = {
      type: 'add',
      ...this.describe(device.portPath, device.busNumber, device.address),
    };
    this.history.push(event);
    this.expectAnswer(event, dev);
    this.send({
      t: 'add',
      dev,
      syspath: sysfsPathOf(device.portPath),
      devnode: `/dev/${devnodeOf(device.busNumber, device.address)}`,
      devnum: device.address,
      record: umockdevRecord(device),
      serve,
      interfaces,
    });
  }

  private describe(portPath: string, busNumber: number, address: number): Omit<BridgeEvent, 'type'> {
    const ids = this.added.get(`${busNumber}/${address}`) ?? { vendorId: 0, productId: 0, served: false };
    return { portPath, busNumber, address, ...ids };
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((error: unknown) => {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    });
  }

  private expectAnswer(event: BridgeEvent, dev: string): void {
    const ids = `${hex4(event.vendorId)}:${hex4(event.productId)}`;
    this.unanswered.push({
      type: event.type,
      dev,
      what: `${event.type} ${ids} on ${event.portPath} (${dev})`,
    });
  }

  private acknowledge(type: 'add' | 'remove', dev: string): void {
    const index = this.unanswered.findIndex((u) => u.type === type && u.dev === dev);
    if (index < 0)
      return this.fail(new Error(`the umockdev harness answered a ${type} of ${dev} never sent`));
    this.unanswered.splice(index, 1);
    if (this.unanswered.length === 0) this.wakeSettleWaiters();
  }

  private wakeSettleWaiters(): void {
    const waiters = this.settleWaiters.splice(0);
    for (const wake of waiters) wake();
  }

  /** A hub's descriptors and product string, read as the kernel reads them at enumeration. */
  private async hubRecord(info: UsbDeviceInfo): Promise<SysfsDevice> {
    const handle = await this.options.bus.open(info);
    try {
      const device = Buffer.from(await handle.controlIn(GET_DESCRIPTOR_DEVICE, 18));
      const config = Buffer.from(await handle.controlIn(GET_DESCRIPTOR_CONFIG, 0xffff));
      const product = info.productIndex
        ? decodeUsbStringDescriptor(await handle.controlIn(stringDescriptorRequest(info.productIndex), 255))
        : undefined;
      return {
        portPath: info.portPath,
        busNumber: info.busNumber,
        address: info.address,
        speed: info.speed,
        descriptors: Buffer.concat([device, config]),
        strings: { product },
      };
    } finally {
      await handle.close();
    }
  }

  // ── serving requests ──────────────────────────────────────────────────────────────

  private async serve(request: HarnessRequest, body: Buffer): Promise<void> {
    const device = this.devices.get(request.dev);
    if (!device?.fn) return this.done(request.seq, -errno.ENODEV);
    const cancel = new AbortController();
    this.inflight.set(request.seq, cancel);
    try {
      const signal = AbortSignal.any([cancel.signal, device.presence.signal]);
      const result =
        request.t === 'urb' ? await urb(device.fn, request, body, signal) : call(device.fn, request);
      if (!cancel.signal.aborted) this.done(request.seq, 0, result.actual, result.data);
    } catch (error) {
      // A discarded URB was completed by the harness already.
      if (!cancel.signal.aborted)
        this.done(request.seq, device.presence.signal.aborted ? -errno.ENODEV : statusOf(error));
    } finally {
      this.inflight.delete(request.seq);
    }
  }

  private done(seq: number, status: number, actual = 0, data?: Uint8Array): void {
    this.send({ t: 'done', seq, status, actual }, data);
  }
}

interface Outcome {
  actual: number;
  data?: Uint8Array;
}

async function urb(
  fn: IBootDevice,
  request: Extract<HarnessMessage, { t: 'urb' }>,
  body: Buffer,
  signal: AbortSignal,
): Promise<Outcome> {
  if (request.kind === 'control') {
    const setup = request.setup;
    if (!setup) throw new UsbTransportError('invalid', 'a control URB without a setup packet');
    if (setup.bmRequestType & 0x80) {
      const data = await fn.control(setup, new Uint8Array(0), signal);
      return { actual: data.length, data: data.subarray(0, setup.wLength) };
    }
    await fn.control(setup, body, signal);
    return { actual: body.length };
  }
  if (request.endpoint & 0x80) {
    const data = await fn.bulkIn(request.endpoint, request.length, signal);
    return { actual: Math.min(data.length, request.length), data: data.subarray(0, request.length) };
  }
  await fn.bulkOut(request.endpoint, body, signal);
  return { actual: body.length };
}

function call(fn: IBootDevice, request: Extract<HarnessMessage, { t: 'call' }>): Outcome {
  const [first = 0, second = 0] = request.args;
  if (request.op === 'set-interface') fn.setInterface(first, second);
  else if (request.op === 'set-configuration') fn.setConfiguration(first);
  else fn.reset();
  return { actual: 0 };
}

/** URB status (negative errno) the kernel reports for what the device model did. */
function statusOf(error: unknown): number {
  if (!(error instanceof UsbTransportError)) return -errno.EPROTO;
  switch (error.kind) {
    case 'pipe':
      return -errno.EPIPE;
    case 'no-device':
      return -errno.ENODEV;
    case 'not-found':
    case 'invalid':
      return -errno.EINVAL;
    case 'busy':
      return -errno.EBUSY;
    case 'overflow':
      return -errno.EOVERFLOW;
    default:
      return -errno.EPROTO;
  }
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  message: string,
  detail: () => string = () => '',
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${message} within ${timeoutMs} ms${detail()}`)),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
