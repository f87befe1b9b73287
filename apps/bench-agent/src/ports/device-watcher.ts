// Which phone is on which port, in which mode, now. Driven by USB hotplug and usbmuxd's Listen
// stream (a slow periodic re-scan covers a lost event); a phone is identified by ECID once per
// enumeration: from its iSerialNumber in DFU/recovery, from its UDID or lockdownd/restored
// behind usbmuxd. A busy port (a restore running) is never probed: the engine owns it.
import { EventEmitter } from 'node:events';
import { parseEcid, type DeviceMode } from '@bench/bench-domain';
import {
  APPLE_USB_VENDOR_ID,
  ibootModeOfProductId,
  parseIBootSerial,
  type UsbmuxDevice,
} from '@bench/protocols';
import { ecidOfUdid, portPathOfLocation, probeMuxDevice } from '@bench/restore-engine';
import { USB_SPEED_MBPS, type UsbBus, type UsbDeviceInfo, type UsbmuxClient } from '@bench/usb-transport';
import type { Logger } from '@bench/logging';

export interface PortPresence {
  portPath: string;
  ecid?: string;
  mode: DeviceMode | 'unknown';
  /** Changes with every enumeration (a USB device id, or a usbmux DeviceID). */
  key: string;
  speedMbps?: number;
  productType?: string;
  productVersion?: string;
  buildVersion?: string;
  udid?: string;
  /** The phone's serial number: lockdownd's SerialNumber in iOS, SRNM in recovery. */
  serialNumber?: string;
  chipId?: number;
  boardId?: number;
}

export interface DeviceWatcherEvents {
  /** A phone appeared on a port, or changed mode (a re-enumeration). */
  seen: [presence: PortPresence, previous: PortPresence | undefined];
  /** The port is empty now. */
  left: [portPath: string, previous: PortPresence];
}

interface Identity {
  ecid?: string;
  mode?: DeviceMode | 'unknown';
  productType?: string;
  productVersion?: string;
  buildVersion?: string;
  serialNumber?: string;
  chipId?: number;
  boardId?: number;
}

const RESCAN_MS = 5_000;
const DEBOUNCE_MS = 30;

export class DeviceWatcher extends EventEmitter<DeviceWatcherEvents> {
  private current = new Map<string, PortPresence>();
  private readonly identities = new Map<string, Identity>();
  private readonly busy = new Set<string>();
  private readonly counters = new Map<string, { attach: number; detach: number }>();
  private scanning?: Promise<void>;
  private again = false;
  private debounce?: NodeJS.Timeout;
  private rescan?: NodeJS.Timeout;
  private unwatch?: () => void;
  private listen?: AbortController;
  private stopped = false;

  constructor(
    private readonly bus: UsbBus,
    private readonly usbmux: UsbmuxClient,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.unwatch = this.bus.watch(() => this.poke());
    this.listen = new AbortController();
    void this.followUsbmux(this.listen.signal);
    await this.scan();
    this.scheduleRescan();
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    this.listen?.abort();
    clearTimeout(this.debounce);
    clearTimeout(this.rescan);
  }

  presence(portPath: string): PortPresence | undefined {
    return this.current.get(portPath);
  }

  all(): PortPresence[] {
    return [...this.current.values()];
  }

  /** Attach and detach counts of a port since the agent started (cable health). */
  counts(portPath: string): { attach: number; detach: number } {
    return this.counters.get(portPath) ?? { attach: 0, detach: 0 };
  }

  /** While busy, a port is watched for presence only: no handle is opened, no service probed. */
  setBusy(portPath: string, busy: boolean): void {
    if (busy) this.busy.add(portPath);
    else this.busy.delete(portPath);
  }

  /** Asks for a scan soon (several pokes make one scan). */
  poke(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.scan(), DEBOUNCE_MS);
  }

  /** Resolves when a phone (any mode) is on the port, or undefined after `timeoutMs`. */
  waitForPhone(portPath: string, timeoutMs: number, signal?: AbortSignal): Promise<PortPresence | undefined> {
    const now = this.current.get(portPath);
    if (now?.ecid) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const finish = (value: PortPresence | undefined) => {
        clearTimeout(timer);
        this.off('seen', onSeen);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onSeen = (presence: PortPresence) => {
        if (presence.portPath === portPath && presence.ecid) finish(presence);
      };
      const onAbort = () => {
        clearTimeout(timer);
        this.off('seen', onSeen);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.on('seen', onSeen);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.poke();
    });
  }

  /** One full look at the bus and at usbmuxd; concurrent calls share it and one more follows. */
  scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = this.scanOnce()
      .catch((error: unknown) => this.logger.warn(`device scan failed: ${(error as Error).message}`))
      .finally(() => {
        this.scanning = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.scan();
        }
      });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const usbDevices = await this.bus.list();
    const next = new Map<string, PortPresence>();
    for (const device of usbDevices) {
      if (device.vendorId !== APPLE_USB_VENDOR_ID) continue;
      const mode = ibootModeOfProductId(device.productId);
      if (!mode) continue;
      const identity = await this.usbIdentity(device);
      next.set(device.portPath, {
        portPath: device.portPath,
        ecid: identity.ecid,
        mode,
        key: `usb:${device.id}`,
        speedMbps: USB_SPEED_MBPS[device.speed],
        serialNumber: identity.serialNumber,
        chipId: identity.chipId,
        boardId: identity.boardId,
      });
    }
    let muxDevices: UsbmuxDevice[] = [];
    try {
      muxDevices = await this.usbmux.listDevices();
    } catch (error) {
      this.logger.debug(`usbmuxd not reachable: ${(error as Error).message}`);
    }
    for (const device of muxDevices) {
      if (device.connectionType !== 'USB') continue;
      const portPath = portPathOfLocation(device.locationId, usbDevices);
      if (!portPath) continue;
      const identity = await this.muxIdentity(device, portPath);
      next.set(portPath, {
        portPath,
        ecid: identity.ecid,
        mode: identity.mode ?? 'unknown',
        key: `mux:${device.deviceId}`,
        udid: device.serialNumber,
        speedMbps: device.connectionSpeed === undefined ? undefined : device.connectionSpeed / 1e6,
        productType: identity.productType,
        productVersion: identity.productVersion,
        buildVersion: identity.buildVersion,
        serialNumber: identity.serialNumber,
      });
    }
    // A phone in normal/restore mode also shows on the bus (0x12a8) before usbmuxd lists it:
    // its port is occupied, identity unknown for a moment.
    for (const device of usbDevices) {
      if (
        device.vendorId === APPLE_USB_VENDOR_ID &&
        !ibootModeOfProductId(device.productId) &&
        !next.has(device.portPath)
      ) {
        next.set(device.portPath, {
          portPath: device.portPath,
          mode: 'unknown',
          key: `usb:${device.id}`,
          speedMbps: USB_SPEED_MBPS[device.speed],
        });
      }
    }
    this.publishChanges(next);
  }

  private publishChanges(next: Map<string, PortPresence>): void {
    const previous = this.current;
    this.current = next;
    for (const [portPath, presence] of next) {
      const before = previous.get(portPath);
      if (
        !before ||
        before.key !== presence.key ||
        before.ecid !== presence.ecid ||
        before.mode !== presence.mode
      ) {
        if (!before || before.key !== presence.key) this.count(portPath).attach++;
        this.emit('seen', presence, before);
      }
    }
    for (const [portPath, before] of previous) {
      if (!next.has(portPath)) {
        this.count(portPath).detach++;
        this.emit('left', portPath, before);
      }
    }
    // Forget identities of enumerations that are gone.
    const live = new Set([...next.values()].map((p) => p.key));
    for (const key of this.identities.keys()) if (!live.has(key)) this.identities.delete(key);
  }

  private count(portPath: string) {
    let counts = this.counters.get(portPath);
    if (!counts) {
      counts = { attach: 0, detach: 0 };
      this.counters.set(portPath, counts);
    }
    return counts;
  }

  private async usbIdentity(device: UsbDeviceInfo): Promise<Identity> {
    const key = `usb:${device.id}`;
    const known = this.identities.get(key);
    if (known) return known;
    if (this.busy.has(device.portPath)) return {};
    const identity: Identity = {};
    try {
      const handle = await this.bus.open(device);
      try {
        const serial = parseIBootSerial(await handle.getStringDescriptor(device.serialNumberIndex, 2_000));
        if (serial.ecid !== undefined) identity.ecid = parseEcid(serial.ecid);
        identity.chipId = serial.cpid;
        identity.boardId = serial.bdid;
        identity.serialNumber = serial.srnm;
      } finally {
        await handle.close().catch(() => undefined);
      }
    } catch (error) {
      this.logger.debug(`${device.portPath}: could not read the serial: ${(error as Error).message}`);
      return identity;
    }
    this.identities.set(key, identity);
    return identity;
  }

  private async muxIdentity(device: UsbmuxDevice, portPath: string): Promise<Identity> {
    const key = `mux:${device.deviceId}`;
    const known = this.identities.get(key);
    if (known?.mode) return known;
    const identity: Identity = { ...known };
    identity.ecid = ecidOfUdid(device.serialNumber) ?? identity.ecid;
    if (this.busy.has(portPath)) return identity;
    try {
      const { mode, ...probed } = await probeMuxDevice(this.usbmux, device.deviceId, {
        knownEcid: identity.ecid ? parseEcid(identity.ecid) : undefined,
        details: true,
      });
      Object.assign(identity, probed);
      if (mode) identity.mode = mode;
    } catch (error) {
      this.logger.debug(
        `${portPath}: could not identify usbmux device ${device.deviceId}: ${(error as Error).message}`,
      );
      return identity;
    }
    this.identities.set(key, identity);
    return identity;
  }

  private async followUsbmux(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const stream = await this.usbmux.listen({ signal });
        for await (const event of stream) {
          void event;
          this.poke();
        }
      } catch {
        // usbmuxd down or restarting: try again in a moment (the periodic scan carries on).
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  private scheduleRescan(): void {
    if (this.stopped) return;
    this.rescan = setTimeout(() => {
      void this.scan().finally(() => this.scheduleRescan());
    }, RESCAN_MS);
  }
}
