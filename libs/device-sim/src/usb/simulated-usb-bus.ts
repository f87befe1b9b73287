// The simulator's USB bus: controllers → hubs → ports with real-looking paths, phones plugged
// into ports, and the same UsbBus interface as the real one (one conformance suite checks both).
// A phone in DFU/recovery shows as an iBoot device, in normal/restore mode as a usbmux device;
// every stage change re-enumerates with a new id and address on the same port path. Hubs are
// class-9 devices that switch port power; each controller shares its bandwidth among its ports.
import {
  UsbTransportError,
  type PortStatus,
  type UsbBus,
  type UsbDeviceHandle,
  type UsbDeviceInfo,
  type UsbHotplugEvent,
  type UsbSpeed,
} from '@bench/usb-transport';
import type { LinkThrottle } from '../bench-hooks';
import { NO_FAULTS, type PhoneFaults } from '../faults/fault-types';
import type { Presence, SimPhone } from '../phone/sim-phone';
import type { SimClock } from '../time/sim-clock';
import { ControllerBandwidth, USB2_CONTROLLER_BPS, type ControllerStats, type FlowStats } from './bandwidth';
import { SimHubFunction, type HubPorts } from './hub-device';
import { BootChainMemory, IBootDevice, imageVerifierFor, type ImageVerifier } from './iboot-device';
import { MuxUsbFunction } from './mux-usb-function';
import { SimUsbDeviceHandle } from './sim-usb-handle';
import { DEFAULT_SIM_TOPOLOGY, type SimHubSpec, type SimUsbTopology } from './topology';
import type { SimBusDevice, SimUsbFunction } from './usb-function';

export interface SimulatedUsbBusOptions {
  clock: SimClock;
  /** The bench's signing key: uploaded images are checked with verifyPersonalizedImage. */
  personalizationKey?: Uint8Array;
  /** Overrides the check (tests of other failure modes); one of the two is required. */
  verifyImage?: ImageVerifier;
  topology?: SimUsbTopology;
  faults?: PhoneFaults;
  /** Simulated ms between `bootx` and the restore ramdisk appearing. */
  restoreBootDelayMs?: number;
  /** Simulated ms a re-enumeration keeps the phone off the bus (SimPhone's default otherwise). */
  reenumerationMs?: number;
  /** Told whenever a host request reaches a phone's DFU/recovery enumeration. */
  onContact?: (phone: SimPhone, what: string) => void;
}

export interface SimPortState {
  portPath: string;
  hubPath: string;
  port: number;
  busNumber: number;
  powerSwitching: SimHubSpec['powerSwitching'];
  powered: boolean;
  overCurrent: boolean;
  /** ECID of the phone plugged in (cable in, whether powered or not). */
  phone?: string;
  /** Negotiated speed of what is enumerated on the port now. */
  speed?: UsbSpeed;
  connected: boolean;
}

interface Port {
  path: string;
  hub: Hub;
  number: number;
  phone?: SimPhone;
  unsubscribe?: () => void;
  requestedPower: boolean;
  powered: boolean;
  overCurrent: boolean;
  change: PortStatus['change'];
  device?: SimBusDevice;
  speed?: UsbSpeed;
  link: PortLink;
}

interface Hub {
  spec: SimHubSpec;
  busNumber: number;
  ports: Port[];
}

const SPEED_BPS: Partial<Record<UsbSpeed, number>> = { full: 12_000_000, high: 480_000_000, low: 1_500_000 };

export class SimulatedUsbBus implements UsbBus {
  private readonly ports = new Map<string, Port>();
  private readonly hubs = new Map<string, Hub>();
  private readonly devices = new Map<string, SimBusDevice>();
  private readonly controllers = new Map<number, ControllerBandwidth>();
  private readonly addresses = new Map<number, { next: number; used: Set<number> }>();
  private readonly listeners = new Set<(event: UsbHotplugEvent) => void>();
  private readonly handles = new Set<SimUsbDeviceHandle>();
  private readonly bootChain = new BootChainMemory();
  private readonly faults: PhoneFaults;
  private readonly verifyImage: ImageVerifier;
  private sequence = 0;
  private isClosed = false;

  constructor(private readonly options: SimulatedUsbBusOptions) {
    this.faults = options.faults ?? NO_FAULTS;
    const key = options.personalizationKey;
    const verify = options.verifyImage ?? (key ? imageVerifierFor(key) : undefined);
    if (!verify) throw new RangeError('the simulated USB bus needs a personalizationKey (or a verifyImage)');
    this.verifyImage = verify;
    for (const controller of (options.topology ?? DEFAULT_SIM_TOPOLOGY).controllers) {
      const bus = controller.busNumber;
      this.controllers.set(
        bus,
        new ControllerBandwidth(bus, options.clock, controller.capacityBps ?? USB2_CONTROLLER_BPS),
      );
      this.addresses.set(bus, { next: 2, used: new Set([1]) });
      // Parents first, so chained hubs find the port they sit on.
      const hubs = [...controller.hubs].sort((a, b) => a.path.length - b.path.length);
      for (const spec of hubs) this.addHub(bus, spec);
    }
  }

  // ── UsbBus ──────────────────────────────────────────────────────────────────────────

  async list(): Promise<UsbDeviceInfo[]> {
    this.checkOpen('list');
    return [...this.devices.values()].map((d) => d.info);
  }

  watch(listener: (event: UsbHotplugEvent) => void): () => void {
    this.checkOpen('watch');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async open(info: UsbDeviceInfo): Promise<UsbDeviceHandle> {
    this.checkOpen('open');
    const device = this.devices.get(info.id);
    if (!device) throw new UsbTransportError('no-device', `open: ${info.portPath} (${info.id}) is gone`);
    const phone = this.phoneOfDevice(device);
    const onContact = this.options.onContact;
    const handle = new SimUsbDeviceHandle(
      device,
      () => this.handles.delete(handle),
      phone && onContact ? (operation) => onContact(phone, `usb:${operation}`) : undefined,
    );
    this.handles.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.listeners.clear();
    await Promise.all([...this.handles].map((h) => h.close()));
    for (const port of this.ports.values()) port.unsubscribe?.();
  }

  // ── the bench ───────────────────────────────────────────────────────────────────────

  /** Port paths phones can be plugged into (hub ports not taken by another hub). */
  portPaths(): string[] {
    return [...this.ports.values()].filter((p) => !this.hubs.has(p.path)).map((p) => p.path);
  }

  hubPaths(): string[] {
    return [...this.hubs.keys()];
  }

  /** The cable goes in: the phone shows up on the port if the port has power. */
  plug(portPath: string, phone: SimPhone): void {
    const port = this.port(portPath);
    if (this.hubs.has(portPath)) throw new RangeError(`${portPath} has a hub plugged in`);
    if (port.phone) throw new RangeError(`${portPath} already has phone ${port.phone.identity.ecidHex}`);
    port.phone = phone;
    const onAttach = (presence: Exclude<Presence, 'none'>) => this.enumerate(port, phone, presence);
    const onDetach = () => this.remove(port);
    phone.on('attach', onAttach);
    phone.on('detach', onDetach);
    port.unsubscribe = () => {
      phone.off('attach', onAttach);
      phone.off('detach', onDetach);
    };
    if (port.powered) phone.plug(portPath);
  }

  /** The cable comes out. */
  unplug(portPath: string): SimPhone | undefined {
    const port = this.port(portPath);
    const phone = port.phone;
    if (!phone) return undefined;
    if (phone.port === portPath) phone.unplug();
    port.unsubscribe?.();
    port.unsubscribe = undefined;
    port.phone = undefined;
    return phone;
  }

  phoneAt(portPath: string): SimPhone | undefined {
    return this.port(portPath).phone;
  }

  portState(portPath: string): SimPortState {
    const port = this.port(portPath);
    return {
      portPath,
      hubPath: port.hub.spec.path,
      port: port.number,
      busNumber: port.hub.busNumber,
      powerSwitching: port.hub.spec.powerSwitching,
      powered: port.powered,
      overCurrent: port.overCurrent,
      phone: port.phone?.identity.ecidHex,
      speed: port.device ? port.speed : undefined,
      connected: port.device !== undefined,
    };
  }

  /** Port power as a hub request would switch it (ganged hubs switch the gang, see requestPower). */
  setPortPower(portPath: string, on: boolean): void {
    const port = this.port(portPath);
    this.requestPower(port.hub, port.number, on);
  }

  /** The hub detects over-current on the port and cuts its power until power is switched on again. */
  tripOverCurrent(portPath: string): void {
    const port = this.port(portPath);
    port.overCurrent = true;
    port.change.overCurrent = true;
    this.applyPower(port.hub);
  }

  /** What is enumerated on the port now (the phone in any mode, as the host's bus lists it). */
  deviceAt(portPath: string): UsbDeviceInfo | undefined {
    return this.port(portPath).device?.info;
  }

  /** Handles opened and not yet closed (tests check that nothing leaks). */
  get openHandleCount(): number {
    return this.handles.size;
  }

  /** Linux usbmuxd's LocationID for the phone: `bus << 16 | address` of its enumeration. */
  locationIdOf(phone: SimPhone): number | undefined {
    const port = [...this.ports.values()].find((p) => p.phone === phone);
    const info = port?.device?.info;
    return info ? ((info.busNumber << 16) | info.address) >>> 0 : undefined;
  }

  /** The port's share of its controller, for other personalities (usbmux streams). */
  linkFor(portPath: string): LinkThrottle {
    return this.port(portPath).link;
  }

  /** The link of the port the phone is plugged into (`SimUsbmuxd`'s `linkFor`). */
  linkForPhone(phone: SimPhone): LinkThrottle {
    const port = [...this.ports.values()].find((p) => p.phone === phone);
    if (!port) throw new RangeError(`phone ${phone.identity.ecidHex} is not plugged into this bus`);
    return port.link;
  }

  controllerStats(busNumber: number): ControllerStats {
    const controller = this.controllers.get(busNumber);
    if (!controller) throw new RangeError(`no controller for bus ${busNumber}`);
    return controller.stats();
  }

  /** Bytes moved through a port's link since the bus started, and the simulated time it took. */
  linkStats(portPath: string): FlowStats {
    const port = this.port(portPath);
    return this.controller(port.hub.busNumber).flowStats(port.path);
  }

  /** The iBoot device enumerated on the port now, if any (tests, the control API). */
  ibootDeviceAt(portPath: string): IBootDevice | undefined {
    const fn = this.port(portPath).device?.fn;
    return fn instanceof IBootDevice ? fn : undefined;
  }

  // ── internals ───────────────────────────────────────────────────────────────────────

  /** The phone enumerated as `device` (hubs have none). */
  private phoneOfDevice(device: SimBusDevice): SimPhone | undefined {
    const port = this.ports.get(device.info.portPath);
    return port?.device === device ? port.phone : undefined;
  }

  private addHub(busNumber: number, spec: SimHubSpec): void {
    if (!spec.path.startsWith(`${busNumber}-`))
      throw new RangeError(`hub ${spec.path} is not on bus ${busNumber}`);
    const parent = spec.path.includes('.') ? spec.path.slice(0, spec.path.lastIndexOf('.')) : undefined;
    if (parent !== undefined && !this.hubs.has(parent))
      throw new RangeError(`hub ${spec.path}: no hub at ${parent}`);
    const hub: Hub = { spec, busNumber, ports: [] };
    const fn = new SimHubFunction(
      {
        vendorId: spec.vendorId ?? 0x0424,
        productId: spec.productId ?? 0x2517,
        product: spec.product ?? `${spec.ports}-port hub`,
      },
      this.hubPorts(hub),
    );
    this.addDevice(spec.path, busNumber, fn, 'high');
    for (let n = 1; n <= spec.ports; n++) {
      const state = {
        path: `${spec.path}.${n}`,
        hub,
        number: n,
        requestedPower: true,
        powered: true,
        overCurrent: false,
        change: { connection: false, enable: false, overCurrent: false, reset: false },
      };
      const port: Port = Object.assign(state, { link: new PortLink(state, this.controller(busNumber)) });
      hub.ports.push(port);
      this.ports.set(port.path, port);
    }
    this.hubs.set(spec.path, hub);
  }

  private hubPorts(hub: Hub): HubPorts {
    return {
      count: hub.spec.ports,
      powerSwitching: hub.spec.powerSwitching,
      status: (n) => this.portStatus(hub.ports[n - 1]),
      requestPower: (n, on) => this.requestPower(hub, n, on),
      clearChange: (n, change) => {
        hub.ports[n - 1].change[change] = false;
      },
      resetPort: (n) => {
        const port = hub.ports[n - 1];
        port.change.reset = true;
        if (port.device?.fn) port.device.fn.reset();
      },
    };
  }

  private portStatus(port: Port): PortStatus {
    const connected = port.device !== undefined;
    const speed =
      port.speed === 'low' || port.speed === 'full' || port.speed === 'high' ? port.speed : undefined;
    return {
      connected,
      enabled: connected,
      suspended: false,
      overCurrent: port.overCurrent,
      resetting: false,
      powered: port.powered,
      speed: connected ? speed : undefined,
      change: { ...port.change },
    };
  }

  /**
   * USB 2.0 §11.11: a per-port hub switches the one port; a ganged hub powers its gang while any
   * port of it is requested on (so one CLEAR_FEATURE does nothing until all are off); a hub
   * without switching keeps power on. Switching on clears a tripped over-current.
   */
  private requestPower(hub: Hub, n: number, on: boolean): void {
    const port = hub.ports[n - 1];
    if (!port) throw new RangeError(`hub ${hub.spec.path} has no port ${n}`);
    port.requestedPower = on;
    if (on) port.overCurrent = false;
    this.applyPower(hub);
  }

  private applyPower(hub: Hub): void {
    const gangOn = hub.ports.some((p) => p.requestedPower);
    for (const port of hub.ports) {
      const switched =
        hub.spec.powerSwitching === 'per-port'
          ? port.requestedPower
          : hub.spec.powerSwitching === 'ganged'
            ? gangOn
            : true;
      const powered = switched && !port.overCurrent;
      if (powered === port.powered) continue;
      port.powered = powered;
      const phone = port.phone;
      if (!phone) continue;
      // No VBUS: the phone drops off the bus and stops charging (its battery keeps it running).
      if (!powered && phone.port === port.path) phone.unplug();
      if (powered && phone.port === null) phone.plug(port.path);
    }
  }

  private enumerate(port: Port, phone: SimPhone, presence: Exclude<Presence, 'none'>): void {
    if (this.isClosed || phone.port !== port.path) return;
    if (port.device) this.remove(port);
    port.speed = this.faults.active(phone, 'full-speed-link') ? 'full' : 'high';
    const fn: SimUsbFunction =
      presence === 'usb'
        ? new IBootDevice({
            phone,
            verifyImage: this.verifyImage,
            link: port.link,
            faults: this.faults,
            bootChain: this.bootChain,
            restoreBootDelayMs: this.options.restoreBootDelayMs,
            reenumerationMs: this.options.reenumerationMs,
          })
        : new MuxUsbFunction(phone);
    port.device = this.addDevice(port.path, port.hub.busNumber, fn, port.speed);
    port.change.connection = true;
    this.emit({ type: 'attach', device: port.device.info });
  }

  private remove(port: Port): void {
    const device = port.device;
    if (!device) return;
    port.device = undefined;
    port.change.connection = true;
    this.devices.delete(device.info.id);
    this.addresses.get(device.info.busNumber)?.used.delete(device.info.address);
    device.presence.abort(new UsbTransportError('no-device', `${port.path}: the device left the bus`));
    device.fn.dispose();
    this.emit({ type: 'detach', device: device.info });
  }

  private addDevice(portPath: string, busNumber: number, fn: SimUsbFunction, speed: UsbSpeed): SimBusDevice {
    const address = this.nextAddress(busNumber);
    const d = fn.descriptor;
    const info: UsbDeviceInfo = {
      id: `sim:${busNumber}-${address}#${++this.sequence}`,
      portPath,
      busNumber,
      address,
      vendorId: d.vendorId,
      productId: d.productId,
      deviceClass: d.deviceClass,
      speed,
      manufacturerIndex: d.manufacturerIndex,
      productIndex: d.productIndex,
      serialNumberIndex: d.serialNumberIndex,
    };
    const device: SimBusDevice = {
      info,
      fn,
      presence: new AbortController(),
      configuration: 1,
      claims: new Map(),
    };
    this.devices.set(info.id, device);
    return device;
  }

  /** Addresses count up to 127 and wrap, skipping those in use, as a host controller's do. */
  private nextAddress(busNumber: number): number {
    const pool = this.addresses.get(busNumber);
    if (!pool) throw new RangeError(`no controller for bus ${busNumber}`);
    for (let tries = 0; tries < 127; tries++) {
      const address = pool.next;
      pool.next = pool.next >= 127 ? 2 : pool.next + 1;
      if (!pool.used.has(address)) {
        pool.used.add(address);
        return address;
      }
    }
    throw new UsbTransportError('busy', `bus ${busNumber} has no free address`);
  }

  private emit(event: UsbHotplugEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not stop the others or the phone's state change.
      }
    }
  }

  private port(portPath: string): Port {
    const port = this.ports.get(portPath);
    if (!port)
      throw new RangeError(
        `the simulated bus has no port ${portPath}; ports: ${this.portPaths().join(', ')}`,
      );
    return port;
  }

  private controller(busNumber: number): ControllerBandwidth {
    const controller = this.controllers.get(busNumber);
    if (!controller) throw new RangeError(`no controller for bus ${busNumber}`);
    return controller;
  }

  private checkOpen(operation: string): void {
    if (this.isClosed) throw new UsbTransportError('closed', `${operation}: the bus is closed`);
  }
}

/** A port's link: its negotiated speed, its controller's share, and detach while transferring. */
class PortLink implements LinkThrottle {
  constructor(
    private readonly port: Pick<Port, 'path' | 'speed' | 'device'>,
    private readonly controller: ControllerBandwidth,
  ) {}

  get linkSpeedBps(): number {
    return SPEED_BPS[this.port.speed ?? 'high'] ?? USB2_CONTROLLER_BPS;
  }

  async transfer(bytes: number, signal?: AbortSignal): Promise<void> {
    const device = this.port.device;
    if (!device) throw new UsbTransportError('no-device', `${this.port.path}: nothing attached`);
    const presence = device.presence.signal;
    const combined = signal ? AbortSignal.any([signal, presence]) : presence;
    try {
      await this.controller.transfer(this.port.path, bytes, this.linkSpeedBps, combined);
    } catch (error) {
      if (presence.aborted) throw presence.reason;
      throw error;
    }
  }
}
