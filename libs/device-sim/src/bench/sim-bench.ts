// A whole simulated bench: hubs and ports on a simulated USB bus, phones plugged into them, a
// usbmuxd endpoint with lockdownd/restored/ASR behind it, a TSS server, synthetic IPSWs, a
// battery model and the fault engine. Tests, `bench sim`, `bench restore --simulate` and
// `bench start --simulate` all build their bench here.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { UsbmuxdAddresses, UsbmuxdListenOptions } from '../usbmux/sim-usbmuxd';
import { createSimUsbmuxd } from '../usbmux/create-sim-usbmuxd';
import type { SimUsbmuxd } from '../usbmux/sim-usbmuxd';
import { FaultEngine, type BenchActions } from '../faults/fault-engine';
import { FirstContactLog } from './first-contact';
import { drawProfileFaults } from '../faults/fault-profiles';
import type { FaultRule } from '../faults/fault-script';
import type { SimFault } from '../faults/fault-types';
import { buildSyntheticIpsw, type SyntheticIpsw } from '../ipsw/synthetic-ipsw';
import { SIM_MODELS } from '../models';
import { createPhone, type NewPhoneOptions } from '../phone/phone-factory';
import type { BootStage, SimPhone } from '../phone/sim-phone';
import { idevicerestoreCompatVerifier } from '../restored/restore-verifier';
import { strictRestoreVerifier } from '../restored/strict-verifier';
import { SimTssServer } from '../tss/sim-tss-server';
import { DEFAULT_SIM_TOPOLOGY, singleControllerTopology, type SimUsbTopology } from '../usb/topology';
import { SimulatedUsbBus } from '../usb/simulated-usb-bus';
import { SeededRandom } from '../time/random';
import { SimClock } from '../time/sim-clock';

export interface SimBenchOptions {
  /** 1 = realistic durations (a restore in 10–20 min); 60 = about a minute. */
  speed?: number;
  seed?: number;
  topology?: SimUsbTopology;
  /** Scripted faults and/or a named profile every phone draws from. */
  faults?: FaultRule[];
  faultProfile?: string;
  /** Where synthetic IPSWs are written (and reused). */
  firmwareDir: string;
  /** Size of the OS image in each synthetic IPSW. */
  osSize?: number;
  /** Target of the synthetic IPSWs. */
  productVersion?: string;
  buildVersion?: string;
  /**
   * How restored checks what it receives: `strict` (tickets from the simulated TSS, components
   * personalized) for bench's engine; `idevicerestore` accepts Debian's 1.0.0 `-R -T` restores.
   */
  restoreChecks?: 'strict' | 'idevicerestore';
  /** Labels for ports (the fault scripts may name slots by label). */
  labels?: Record<string, string>;
  /** Percent per simulated minute (default 1) and drain when unpowered (0.2). */
  battery?: { chargePerMinute?: number; drainPerMinute?: number };
}

export interface SimBenchEndpoints {
  usbmuxd: UsbmuxdAddresses;
  tssUrl: string;
}

const BATTERY_TICK_MS = 10_000;
const BOOT_LEVEL = 5;

export class SimBench implements BenchActions {
  readonly clock: SimClock;
  readonly random: SeededRandom;
  readonly key: Buffer;
  readonly bus: SimulatedUsbBus;
  readonly usbmuxd: SimUsbmuxd;
  readonly tss: SimTssServer;
  readonly faults: FaultEngine;
  readonly phones: SimPhone[] = [];
  /** When each phone was last plugged in and when the host first talked to it afterwards. */
  readonly contacts = new FirstContactLog();
  /** Every phone note, in order (reproducibility and tests). */
  readonly notes: { ecid: string; kind: string; detail: Record<string, unknown> }[] = [];
  private readonly ipsws = new Map<string, Promise<SyntheticIpsw>>();
  /** Charge below one percent carried between ticks (levels are whole percent, as phones report). */
  private readonly chargeCarry = new Map<SimPhone, number>();
  private readonly timers = new Set<() => void>();
  /** Phones whose flaky-cable loop runs (one loop per phone, however often it is re-plugged). */
  private readonly flaky = new Set<SimPhone>();
  /** How often a person unplugged each phone (a glitching cable re-plugs only a phone nobody moved since). */
  private readonly handMoves = new Map<SimPhone, number>();
  private batteryTimer?: () => void;
  private endpoints?: SimBenchEndpoints;

  constructor(private readonly options: SimBenchOptions) {
    this.clock = new SimClock(options.speed ?? 1);
    this.random = new SeededRandom(options.seed ?? 1);
    this.key = createHash('sha256')
      .update(`bench-sim-key:${options.seed ?? 1}`)
      .digest();
    this.faults = new FaultEngine(options.faults ?? [], this);
    this.bus = new SimulatedUsbBus({
      clock: this.clock,
      personalizationKey: this.key,
      topology: options.topology ?? DEFAULT_SIM_TOPOLOGY,
      faults: this.faults,
      onContact: (phone, what) => this.contacts.contact(phone, what),
    });
    const verifier =
      options.restoreChecks === 'idevicerestore'
        ? idevicerestoreCompatVerifier()
        : strictRestoreVerifier({ key: this.key });
    this.usbmuxd = createSimUsbmuxd({
      faults: this.faults,
      linkFor: (phone) => this.bus.linkForPhone(phone),
      locationFor: (phone) => this.bus.locationIdOf(phone),
      restored: { verifier },
      onContact: (phone, what) => this.contacts.contact(phone, what),
    });
    this.tss = new SimTssServer({
      key: this.key,
      refuses: (ecid) => {
        const phone = this.phoneByEcid(ecid);
        return phone !== undefined && this.faults.active(phone, 'unsigned-build');
      },
    });
  }

  /** Starts the usbmuxd endpoint and the TSS server. */
  async start(
    usbmuxd: UsbmuxdListenOptions = { tcp: { host: '127.0.0.1', port: 0 } },
    tssPort = 0,
  ): Promise<SimBenchEndpoints> {
    const addresses = await this.usbmuxd.listen(usbmuxd);
    const tssUrl = await this.tss.listen(tssPort);
    this.batteryTimer = this.every(BATTERY_TICK_MS, () => this.tickBatteries());
    this.endpoints = { usbmuxd: addresses, tssUrl };
    return this.endpoints;
  }

  get started(): SimBenchEndpoints {
    if (!this.endpoints) throw new Error('the simulated bench is not started');
    return this.endpoints;
  }

  /** Ports of the topology, in order. */
  ports(): string[] {
    return this.bus.portPaths();
  }

  /** A new phone, plugged into `port` (or the first free port). */
  addPhone(options: Partial<NewPhoneOptions> & { port?: string } = {}): SimPhone {
    const productType = options.productType ?? SIM_MODELS[this.phones.length % SIM_MODELS.length].productType;
    const phone = createPhone({ ...options, productType }, this.clock, this.random);
    phone.on('note', (kind, detail) => this.notes.push({ ecid: phone.identity.ecidHex, kind, detail }));
    this.phones.push(phone);
    if (this.options.faultProfile)
      this.faults.addRules(drawProfileFaults(this.options.faultProfile, phone.identity.ecid, this.random));
    this.usbmuxd.addPhone(phone);
    const port = options.port ?? this.ports().find((p) => !this.bus.phoneAt(p));
    if (port) this.plug(phone, port);
    return phone;
  }

  /** `count` phones on the first free ports, models cycling through the simulator's list. */
  addPhones(
    count: number,
    options: { stage?: BootStage; productVersion?: string; buildVersion?: string } = {},
  ): SimPhone[] {
    return Array.from({ length: count }, () => this.addPhone(options));
  }

  plug(phone: SimPhone, port: string): void {
    this.contacts.plugged(phone, port);
    this.bus.plug(port, phone);
    this.faults.startPersistent(phone);
  }

  /**
   * A person takes the phone off its port (the control API, a test). A fault's pending re-plug
   * of this phone is dropped: a cable that glitched must not put back a phone someone took away.
   */
  unplug(phone: SimPhone): string | undefined {
    this.handMoves.set(phone, (this.handMoves.get(phone) ?? 0) + 1);
    return this.disconnect(phone);
  }

  private disconnect(phone: SimPhone): string | undefined {
    const port = this.portOf(phone);
    if (port) this.bus.unplug(port);
    return port;
  }

  phoneByEcid(ecid: bigint | string): SimPhone | undefined {
    const hex =
      typeof ecid === 'bigint'
        ? ecid.toString(16).toUpperCase().padStart(16, '0')
        : ecid.toUpperCase().replace(/^0X/, '').padStart(16, '0');
    return this.phones.find((p) => p.identity.ecidHex === hex);
  }

  portOf(phone: SimPhone): string | undefined {
    return this.ports().find((p) => this.bus.phoneAt(p) === phone);
  }

  /** The synthetic IPSW for these models (built once, then reused from `firmwareDir`). */
  ipsw(
    productTypes: readonly string[] = SIM_MODELS.map((m) => m.productType),
    options: { manifesto?: boolean } = {},
  ): Promise<SyntheticIpsw> {
    const version = this.options.productVersion ?? '18.6.2';
    const build = this.options.buildVersion ?? '22G100';
    const osSize = this.options.osSize ?? 8 * 1024 * 1024;
    const name = `sim-${productTypes.join('_')}-${build}-${osSize}${options.manifesto ? '-manifesto' : ''}.ipsw`;
    let pending = this.ipsws.get(name);
    if (!pending) {
      mkdirSync(this.options.firmwareDir, { recursive: true });
      const out = path.join(this.options.firmwareDir, name.replace(/,/g, '.'));
      pending = buildSyntheticIpsw({
        productTypes,
        productVersion: version,
        buildVersion: build,
        osSize,
        manifesto: options.manifesto,
        seed: `bench-sim:${build}:${osSize}`,
        out,
      });
      this.ipsws.set(name, pending);
    }
    return pending;
  }

  /** Injects a fault now (control API, demos, tests). */
  inject(phone: SimPhone, fault: SimFault): void {
    this.faults.injectNow(phone, fault);
  }

  // --- BenchActions: what the fault engine does to the bench ---

  pullCable(phone: SimPhone, replugAfterMs?: number): void {
    const moves = this.handMoves.get(phone) ?? 0;
    const port = this.disconnect(phone);
    if (port && replugAfterMs !== undefined) this.after(replugAfterMs, () => this.replug(phone, port, moves));
  }

  killBattery(phone: SimPhone): void {
    phone.battery.level = 0;
    this.chargeCarry.set(phone, 0);
    phone.battery.charging = false;
    // restored gets a moment to say it is waiting for the battery (ProgressMsg 39), as a real one
    // does before it browns out. A simulated minute: long enough that the host hears it even at
    // 200× on a busy machine (3 s was 15 ms of wall time there).
    const stage = phone.stage;
    this.after(stage === 'restore-ramdisk' ? 60_000 : 0, () => {
      phone.note('battery-dead', { stage });
      phone.powerOff();
    });
  }

  overCurrent(phone: SimPhone): void {
    const port = this.portOf(phone);
    if (port) this.bus.tripOverCurrent(port);
  }

  startFlakyCable(phone: SimPhone, dropsPerMinute: number): void {
    if (this.flaky.has(phone)) return;
    this.flaky.add(phone);
    const meanMs = 60_000 / Math.max(0.1, dropsPerMinute);
    const drop = () => {
      const port = this.portOf(phone);
      // The flaw is the cable on the port: the phone drops only while it is there, attached and
      // busy (an idle phone in iOS is left alone), and stops dropping once moved elsewhere.
      if (
        port &&
        phone.presence !== 'none' &&
        phone.stage !== 'ios' &&
        this.faults.active(phone, 'flaky-cable')
      ) {
        const moves = this.handMoves.get(phone) ?? 0;
        this.bus.unplug(port);
        this.after(2_000, () => this.replug(phone, port, moves));
      }
      this.after(meanMs * (0.5 + this.random.next()), drop);
    };
    this.after(meanMs * (0.5 + this.random.next()), drop);
  }

  /**
   * Puts a phone back where it was after a cable glitch, unless a person unplugged or moved it
   * since (`moves` was its hand-move count then), or another phone took the port meanwhile.
   */
  private replug(phone: SimPhone, port: string, moves: number): void {
    if ((this.handMoves.get(phone) ?? 0) !== moves) return;
    if (!this.bus.phoneAt(port) && !this.portOf(phone)) this.plug(phone, port);
  }

  labelOf(portPath: string): string | undefined {
    return this.options.labels?.[portPath];
  }

  async close(): Promise<void> {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.batteryTimer?.();
    await this.usbmuxd.close();
    await this.tss.close();
    await this.bus.close();
  }

  /** Charging on powered ports, draining elsewhere; a dead phone boots again once charged. */
  private tickBatteries(): void {
    const minutes = BATTERY_TICK_MS / 60_000;
    const charge = (this.options.battery?.chargePerMinute ?? 1) * minutes;
    const drain = (this.options.battery?.drainPerMinute ?? 0.2) * minutes;
    for (const phone of this.phones) {
      const port = this.portOf(phone);
      const powered = port !== undefined && this.bus.portState(port).powered;
      const battery = phone.battery;
      battery.externalConnected = powered;
      const delta = powered ? charge : phone.stage !== 'off' ? -drain : 0;
      const exact = (this.chargeCarry.get(phone) ?? battery.level) + delta;
      const clamped = Math.min(100, Math.max(0, exact));
      this.chargeCarry.set(phone, clamped);
      battery.level = Math.round(clamped);
      battery.charging = powered && battery.level < 100;
      if (!powered && phone.stage !== 'off' && clamped === 0) phone.powerOff();
      if (phone.stage === 'off' && powered && battery.level >= BOOT_LEVEL) {
        // An interrupted restore left auto-boot false: the phone comes up in recovery.
        phone.reboot(phone.nvram.get('auto-boot') === 'false' ? 'iboot' : 'ios', 30_000, 'charged');
      }
    }
  }

  private after(simulatedMs: number, callback: () => void): void {
    const cancel = this.clock.after(simulatedMs, () => {
      this.timers.delete(cancel);
      callback();
    });
    this.timers.add(cancel);
  }

  private every(simulatedMs: number, callback: () => void): () => void {
    let cancel = () => {};
    const schedule = () => {
      cancel = this.clock.after(simulatedMs, () => {
        callback();
        schedule();
      });
    };
    schedule();
    return () => cancel();
  }
}

/** A topology with room for `phones` phones: 7-port switching hubs, two per USB 2.0 controller. */
export function topologyFor(
  phones: number,
  layout: { portsPerController?: number; controllerBps?: number } = {},
): SimUsbTopology {
  if (phones <= 11 && layout.portsPerController === undefined && layout.controllerBps === undefined)
    return DEFAULT_SIM_TOPOLOGY;
  const perController = layout.portsPerController ?? 14;
  const controllers: SimUsbTopology['controllers'] = [];
  let remaining = phones;
  for (let bus = 1; remaining > 0; bus++) {
    const ports = Math.min(perController, remaining);
    const controller = singleControllerTopology(ports, bus).controllers[0];
    controllers.push(
      layout.controllerBps === undefined ? controller : { ...controller, capacityBps: layout.controllerBps },
    );
    remaining -= ports;
  }
  return { controllers };
}
