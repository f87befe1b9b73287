// One appearance of a phone behind usbmuxd (from attach to detach) and its device-side TCP
// ports. A Connect that succeeds hands the client socket to whatever listens on that device
// port; when the phone detaches, every port closes and every open connection is dropped, as
// real usbmuxd does when the USB device goes away.
import type { Duplex } from 'node:stream';
import type { UsbmuxDevice } from '@bench/protocols';
import type { LinkThrottle } from '../bench-hooks';
import type { PhoneFaults } from '../faults/fault-types';
import type { SimPhone } from '../phone/sim-phone';
import { locationIdOf } from './location-id';

/** Takes a freshly connected device-port stream (already flowing raw bytes from the host). */
export type DevicePortHandler = (channel: Duplex) => void;

export class DevicePortInUseError extends Error {
  constructor(readonly port: number) {
    super(`device port ${port} is already listening`);
    this.name = 'DevicePortInUseError';
  }
}

/** Lockdown hands out service ports from the dynamic range, as iOS does. */
const DYNAMIC_PORTS = { first: 49152, last: 65535 } as const;

export class DevicePorts {
  private readonly listeners = new Map<number, DevicePortHandler>();
  private readonly open = new Set<Duplex>();
  private closed = false;

  listen(port: number, handler: DevicePortHandler): void {
    if (this.closed) return;
    if (this.listeners.has(port)) throw new DevicePortInUseError(port);
    this.listeners.set(port, handler);
  }

  /** Listens on a free dynamic port picked with `pick` (seeded, so runs repeat) and returns it. */
  listenDynamic(handler: DevicePortHandler, pick: (first: number, lastExclusive: number) => number): number {
    for (;;) {
      const port = pick(DYNAMIC_PORTS.first, DYNAMIC_PORTS.last + 1);
      if (this.listeners.has(port)) continue;
      this.listen(port, handler);
      return port;
    }
  }

  unlisten(port: number): void {
    this.listeners.delete(port);
  }

  isListening(port: number): boolean {
    return this.listeners.has(port);
  }

  get listeningPorts(): number[] {
    return [...this.listeners.keys()].sort((a, b) => a - b);
  }

  get openConnections(): number {
    return this.open.size;
  }

  /** usbmux Connect: false when nothing listens there (the client gets Result 3). */
  connect(port: number, channel: Duplex): boolean {
    const handler = this.listeners.get(port);
    if (!handler || this.closed) return false;
    this.open.add(channel);
    channel.once('close', () => this.open.delete(channel));
    handler(channel);
    channel.resume();
    return true;
  }

  /** The phone left usbmux: no more listeners, every connection dropped. */
  closeAll(): void {
    this.closed = true;
    this.listeners.clear();
    for (const channel of this.open) channel.destroy();
    this.open.clear();
  }
}

export interface MuxDeviceContext {
  faults: PhoneFaults;
  link: LinkThrottle;
  /** The LocationID now (see SimUsbmuxdOptions.locationFor). */
  locationId?: () => number | undefined;
  /** A host's Connect reached this device (to `port`, listening or not). */
  onConnect?: (port: number) => void;
}

/** What answers behind usbmux in one boot stage: opens the device ports of an attachment. */
export interface UsbmuxPersonality {
  attach(device: MuxDevice): void;
}

/** The phone as usbmuxd shows it for one attachment. */
export class MuxDevice {
  readonly ports = new DevicePorts();
  private readonly detachController = new AbortController();

  constructor(
    readonly deviceId: number,
    readonly phone: SimPhone,
    readonly enumeration: number,
    readonly context: MuxDeviceContext,
  ) {}

  /** Aborted when the phone leaves usbmux: everything running for this attachment stops. */
  get detached(): AbortSignal {
    return this.detachController.signal;
  }

  get record(): UsbmuxDevice {
    return {
      deviceId: this.deviceId,
      serialNumber: this.phone.identity.udid,
      connectionType: 'USB',
      // Apple's usbmux PID for iPhones in normal and restore mode alike (0x12A8).
      productId: 0x12a8,
      locationId: this.context.locationId?.() ?? locationIdOf(this.phone.port ?? ''),
      connectionSpeed: this.context.link.linkSpeedBps,
    };
  }

  close(): void {
    if (this.detachController.signal.aborted) return;
    this.detachController.abort(new Error(`phone ${this.phone.identity.udid} left usbmux`));
    this.ports.closeAll();
  }
}
