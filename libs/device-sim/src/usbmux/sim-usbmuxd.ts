// A usbmuxd-compatible endpoint for simulated phones: the plist protocol of libusbmuxd 2.x on a
// unix socket and/or TCP (what `USBMUXD_SOCKET_ADDRESS` points libimobiledevice tools, Debian's
// idevicerestore and our own engine at). Phones in `ios` or `restore-ramdisk` show up here while
// plugged in; what answers on their device ports is the personality of their stage.
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { UNTHROTTLED, type LinkThrottle } from '../bench-hooks';
import { NO_FAULTS, type PhoneFaults } from '../faults/fault-types';
import type { BootStage, SimPhone } from '../phone/sim-phone';
import { MuxDevice, type UsbmuxPersonality } from './mux-device';
import { PairRecordStore } from './pair-record-store';
import { UsbmuxClientConnection, type UsbmuxEndpoint, type UsbmuxListener } from './usbmux-client-connection';

export interface SimUsbmuxdOptions {
  /** What answers behind usbmux per boot stage (`ios` → lockdownd, `restore-ramdisk` → restored). */
  personalities: Partial<Record<BootStage, UsbmuxPersonality>>;
  faults?: PhoneFaults;
  /** The bench's throttle for a phone's link (its port speed and controller share). */
  linkFor?: (phone: SimPhone) => LinkThrottle;
  /**
   * The LocationID to report, as Linux usbmuxd does: `bus << 16 | device address` of the phone's
   * USB enumeration (the simulated bus knows it). Without it, a stable value per port path.
   */
  locationFor?: (phone: SimPhone) => number | undefined;
  /** Keep pair records (and the SystemBUID) in this directory too, laid out like /var/lib/lockdown. */
  pairRecordDir?: string;
  /** A fixed SystemBUID (otherwise read from `pairRecordDir` or made up once). */
  buid?: string;
  /** Largest usbmux frame accepted from a client (default 1 MiB; pair records are a few KiB). */
  maxFrameBytes?: number;
  /** Told whenever a host request reaches a phone (a Connect to one of its ports). */
  onContact?: (phone: SimPhone, what: string) => void;
}

export interface UsbmuxdListenOptions {
  unixPath?: string;
  /** Port 0 picks a free port; the bound one is in the result. */
  tcp?: { host?: string; port: number };
}

export interface UsbmuxdAddresses {
  unixPath?: string;
  tcp?: { host: string; port: number };
  /** The value for `USBMUXD_SOCKET_ADDRESS` (TCP when listening on TCP, else `UNIX:<path>`). */
  socketAddress: string;
}

export interface SimUsbmuxdEvents {
  attached: [device: MuxDevice];
  detached: [device: MuxDevice];
  /** A client sent something malformed and was disconnected (the endpoint keeps running). */
  'client-error': [error: Error];
}

export class SimUsbmuxd extends EventEmitter<SimUsbmuxdEvents> implements UsbmuxEndpoint {
  readonly pairRecords: PairRecordStore;
  private readonly phones = new Map<SimPhone, { onAttach: () => void; onDetach: () => void }>();
  private readonly attached = new Map<SimPhone, MuxDevice>();
  private readonly servers: net.Server[] = [];
  private readonly clients = new Set<UsbmuxClientConnection>();
  private readonly subscribers = new Set<UsbmuxListener>();
  private nextDeviceId = 1;
  private nextClientId = 1;
  private unixPath?: string;
  readonly faults: PhoneFaults;

  constructor(private readonly options: SimUsbmuxdOptions) {
    super();
    this.faults = options.faults ?? NO_FAULTS;
    this.pairRecords = new PairRecordStore(options.pairRecordDir, options.buid);
  }

  /** Follows the phone: it shows up here whenever it is plugged in and in a usbmux stage. */
  addPhone(phone: SimPhone): void {
    if (this.phones.has(phone)) return;
    const onAttach = () => {
      if (phone.presence === 'usbmux') this.attach(phone);
    };
    const onDetach = () => this.detach(phone);
    phone.on('attach', onAttach);
    phone.on('detach', onDetach);
    this.phones.set(phone, { onAttach, onDetach });
    if (phone.presence === 'usbmux') this.attach(phone);
  }

  removePhone(phone: SimPhone): void {
    const hooks = this.phones.get(phone);
    if (!hooks) return;
    phone.off('attach', hooks.onAttach);
    phone.off('detach', hooks.onDetach);
    this.phones.delete(phone);
    this.detach(phone);
  }

  /** Client connections open now (usbmux requests, Listen streams and device pipes). */
  get clientCount(): number {
    return this.clients.size;
  }

  get devices(): MuxDevice[] {
    return [...this.attached.values()].sort((a, b) => a.deviceId - b.deviceId);
  }

  deviceById(deviceId: number): MuxDevice | undefined {
    return this.devices.find((device) => device.deviceId === deviceId);
  }

  deviceOf(phone: SimPhone): MuxDevice | undefined {
    return this.attached.get(phone);
  }

  async listen(options: UsbmuxdListenOptions): Promise<UsbmuxdAddresses> {
    if (!options.unixPath && !options.tcp) throw new RangeError('listen needs a unix path or a TCP address');
    await this.pairRecords.open();
    const addresses: Omit<UsbmuxdAddresses, 'socketAddress'> = {};
    if (options.unixPath) {
      await rm(options.unixPath, { force: true });
      await this.startServer((server) => server.listen(options.unixPath));
      this.unixPath = options.unixPath;
      addresses.unixPath = options.unixPath;
    }
    if (options.tcp) {
      const host = options.tcp.host ?? '127.0.0.1';
      const server = await this.startServer((s) => s.listen(options.tcp?.port, host));
      const bound = server.address() as net.AddressInfo;
      addresses.tcp = { host, port: bound.port };
    }
    const socketAddress = addresses.tcp
      ? `${addresses.tcp.host.includes(':') ? `[${addresses.tcp.host}]` : addresses.tcp.host}:${addresses.tcp.port}`
      : `UNIX:${addresses.unixPath}`;
    return { ...addresses, socketAddress };
  }

  async close(): Promise<void> {
    for (const phone of [...this.phones.keys()]) this.removePhone(phone);
    for (const client of this.clients) client.destroy();
    await Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    this.servers.length = 0;
    if (this.unixPath) await rm(this.unixPath, { force: true });
  }

  // --- UsbmuxEndpoint (what client connections ask of us) ---

  get buid(): string {
    return this.pairRecords.buid;
  }

  subscribe(listener: UsbmuxListener): void {
    this.subscribers.add(listener);
  }

  unsubscribe(listener: UsbmuxListener): void {
    this.subscribers.delete(listener);
  }

  get listenerList(): UsbmuxListener[] {
    return [...this.subscribers];
  }

  notifyPaired(deviceId: number): void {
    for (const listener of this.subscribers) listener.paired(deviceId);
  }

  reportClientError(error: Error): void {
    this.emit('client-error', error);
  }

  // ---

  private startServer(bind: (server: net.Server) => void): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        server.on('error', (error) => this.emit('client-error', error));
        this.servers.push(server);
        resolve(server);
      });
      bind(server);
    });
  }

  private accept(socket: net.Socket): void {
    const client = new UsbmuxClientConnection(socket, this.nextClientId++, this, this.options.maxFrameBytes);
    this.clients.add(client);
    socket.once('close', () => this.clients.delete(client));
  }

  private attach(phone: SimPhone): void {
    if (this.attached.has(phone)) return;
    const personality = this.options.personalities[phone.stage];
    const link = this.options.linkFor?.(phone) ?? UNTHROTTLED;
    const locationFor = this.options.locationFor;
    const device = new MuxDevice(this.nextDeviceId++, phone, phone.enumeration, {
      faults: this.faults,
      link,
      locationId: locationFor ? () => locationFor(phone) : undefined,
      onConnect: (port) => this.options.onContact?.(phone, `usbmux-connect:${port}`),
    });
    this.attached.set(phone, device);
    personality?.attach(device);
    // Announce once every listener of the phone's attach has run (the USB bus enumerates the
    // phone there, which gives the LocationID its address).
    setImmediate(() => {
      if (this.attached.get(phone) !== device) return;
      for (const listener of this.subscribers) listener.attached(device);
      this.emit('attached', device);
    });
  }

  private detach(phone: SimPhone): void {
    const device = this.attached.get(phone);
    if (!device) return;
    this.attached.delete(phone);
    device.close();
    for (const listener of this.subscribers) listener.detached(device.deviceId);
    this.emit('detached', device);
  }
}
