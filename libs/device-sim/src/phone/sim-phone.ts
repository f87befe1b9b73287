// One simulated iPhone: identity, battery, NVRAM, and where it is in its boot chain. The
// personalities (the iBoot USB device on the simulated bus; lockdownd/restored behind the
// usbmuxd endpoint) read this state and drive its transitions; the bench decides whether the
// phone is plugged into a port. A mode change is a re-enumeration: `detach`, a pause, `attach`.
import { EventEmitter } from 'node:events';
import type { SeededRandom } from '../time/random';
import type { SimClock } from '../time/sim-clock';
import type { SimModel } from '../models';

/** Where the phone is in its boot chain; the USB mode follows from it. */
export type BootStage =
  | 'off'
  /** SecureROM DFU, waiting for iBSS. */
  | 'secure-rom'
  /** iBoot from flash in recovery (what EnterRecovery or a failed boot gives). */
  | 'iboot'
  /** iBSS loaded from DFU, running as a recovery device, waiting for iBEC. */
  | 'ibss'
  /** iBEC running, waiting for ramdisk, device tree, kernel cache and `bootx`. */
  | 'ibec'
  /** The restore ramdisk is booted: restored answers behind usbmux. */
  | 'restore-ramdisk'
  /** iOS is running: lockdownd answers behind usbmux. */
  | 'ios';

export type SimMode = 'off' | 'dfu' | 'recovery' | 'restore' | 'normal';

/** Where a personality shows the phone: on the USB bus (DFU/recovery) or behind usbmuxd. */
export type Presence = 'none' | 'usb' | 'usbmux';

export function modeOfStage(stage: BootStage): SimMode {
  switch (stage) {
    case 'off':
      return 'off';
    case 'secure-rom':
      return 'dfu';
    case 'iboot':
    case 'ibss':
    case 'ibec':
      return 'recovery';
    case 'restore-ramdisk':
      return 'restore';
    case 'ios':
      return 'normal';
  }
}

export interface PhoneIdentity {
  model: SimModel;
  ecid: bigint;
  /** 16 upper-case hex digits. */
  ecidHex: string;
  serialNumber: string;
  /** `%08X-%016X` of CPID and ECID (what usbmuxd reports as SerialNumber). */
  udid: string;
}

export interface BatteryState {
  /** Percent, 0–100. */
  level: number;
  /** Whether the port it is plugged into supplies power (and the battery is not full). */
  charging: boolean;
  externalConnected: boolean;
  voltageMv: number;
  temperatureCentiC: number;
  cycleCount: number;
}

export interface PhoneSnapshot {
  ecid: string;
  udid: string;
  serialNumber: string;
  productType: string;
  stage: BootStage;
  mode: SimMode;
  presence: Presence;
  port: string | null;
  enumeration: number;
  productVersion: string;
  buildVersion: string;
  battery: BatteryState;
}

export interface SimPhoneEvents {
  /** The phone appeared (on the bus or behind usbmux) with a new enumeration number. */
  attach: [presence: Exclude<Presence, 'none'>, enumeration: number];
  /** The phone left the bus or usbmux (mode change, cable pull, power loss). */
  detach: [presence: Exclude<Presence, 'none'>, enumeration: number];
  /** Stage changed (after the re-enumeration pause). */
  stage: [stage: BootStage];
  /** Something a test or the control API may want to see (image accepted, restore progress…). */
  note: [kind: string, detail: Record<string, unknown>];
}

export interface SimPhoneOptions {
  identity: PhoneIdentity;
  stage: BootStage;
  productVersion: string;
  buildVersion: string;
  battery: BatteryState;
  clock: SimClock;
  random: SeededRandom;
}

/** Simulated pause between detach and attach when a phone re-enumerates (ms of simulated time). */
export const REENUMERATION_MS = 1_500;

export class SimPhone extends EventEmitter<SimPhoneEvents> {
  readonly identity: PhoneIdentity;
  private currentStage: BootStage;
  private currentPort: string | null = null;
  private enumerationCounter = 0;
  private visible: Presence = 'none';
  private cancelPendingBoot?: () => void;
  /** NVRAM (iBoot environment): survives reboots. */
  readonly nvram = new Map<string, string>();
  productVersion: string;
  buildVersion: string;
  battery: BatteryState;
  apNonce: Buffer;
  sepNonce: Buffer;
  readonly clock: SimClock;
  readonly random: SeededRandom;

  constructor(options: SimPhoneOptions) {
    super();
    this.identity = options.identity;
    this.currentStage = options.stage;
    this.productVersion = options.productVersion;
    this.buildVersion = options.buildVersion;
    this.battery = options.battery;
    this.clock = options.clock;
    this.random = options.random;
    this.apNonce = this.random.bytes(32);
    this.sepNonce = this.random.bytes(20);
    this.nvram.set('auto-boot', options.stage === 'iboot' ? 'false' : 'true');
    this.nvram.set('build-version', `iBoot-${options.buildVersion}`);
    this.nvram.set('build-style', 'RELEASE');
  }

  get stage(): BootStage {
    return this.currentStage;
  }

  get mode(): SimMode {
    return modeOfStage(this.currentStage);
  }

  /** Where the phone would show if plugged in. */
  get presenceForStage(): Presence {
    const mode = this.mode;
    if (mode === 'dfu' || mode === 'recovery') return 'usb';
    if (mode === 'restore' || mode === 'normal') return 'usbmux';
    return 'none';
  }

  /** Where it shows now (none when unplugged or off). */
  get presence(): Presence {
    return this.visible;
  }

  get port(): string | null {
    return this.currentPort;
  }

  get enumeration(): number {
    return this.enumerationCounter;
  }

  snapshot(): PhoneSnapshot {
    return {
      ecid: this.identity.ecidHex,
      udid: this.identity.udid,
      serialNumber: this.identity.serialNumber,
      productType: this.identity.model.productType,
      stage: this.currentStage,
      mode: this.mode,
      presence: this.visible,
      port: this.currentPort,
      enumeration: this.enumerationCounter,
      productVersion: this.productVersion,
      buildVersion: this.buildVersion,
      battery: { ...this.battery },
    };
  }

  /** The bench plugs the phone into a port: it enumerates in its current stage. */
  plug(port: string): void {
    if (this.currentPort !== null)
      throw new Error(`phone ${this.identity.ecidHex} is already on port ${this.currentPort}`);
    this.currentPort = port;
    this.battery.externalConnected = true;
    this.battery.charging = this.battery.level < 100;
    this.show();
  }

  /**
   * The cable is pulled: the phone leaves whatever it was on. A boot under way goes on (the
   * battery powers it); the phone shows in its new stage once plugged in again.
   */
  unplug(): void {
    this.hide();
    this.currentPort = null;
    this.battery.externalConnected = false;
    this.battery.charging = false;
  }

  /**
   * A mode change: leave the bus (or usbmux) now, and after `delayMs` of simulated time come
   * back in `next` with fresh nonces. Used for iBSS/iBEC hand-offs, bootx, EnterRecovery,
   * reboots after a restore, and the fall-back to recovery after an interrupted restore.
   */
  reboot(next: BootStage, delayMs = REENUMERATION_MS, reason = 'reboot'): void {
    this.cancelPendingBoot?.();
    this.hide();
    this.emit('note', 'reboot', { from: this.currentStage, to: next, reason });
    this.cancelPendingBoot = this.clock.after(delayMs, () => {
      this.cancelPendingBoot = undefined;
      // Re-plugged while booting: it showed in the old stage; now it re-enumerates in the new one.
      this.hide();
      this.setStage(next);
      this.show();
    });
  }

  /** Sets the stage at once, without a re-enumeration pause (scenario set-up, power-on). */
  setStage(next: BootStage): void {
    this.currentStage = next;
    this.apNonce = this.random.bytes(32);
    this.sepNonce = this.random.bytes(20);
    this.emit('stage', next);
  }

  /** Powers the phone off at once (dead battery, over-current); it leaves the bus. */
  powerOff(): void {
    this.cancelPendingBoot?.();
    this.cancelPendingBoot = undefined;
    this.hide();
    this.currentStage = 'off';
    this.emit('stage', 'off');
  }

  note(kind: string, detail: Record<string, unknown> = {}): void {
    this.emit('note', kind, detail);
  }

  private show(): void {
    const presence = this.presenceForStage;
    if (this.currentPort === null || presence === 'none' || this.visible !== 'none') return;
    this.enumerationCounter++;
    this.visible = presence;
    this.emit('attach', presence, this.enumerationCounter);
  }

  private hide(): void {
    if (this.visible === 'none') return;
    const was = this.visible;
    this.visible = 'none';
    this.emit('detach', was, this.enumerationCounter);
  }
}
