// One enumeration of a phone in DFU (SecureROM) or recovery (iBoot, iBSS, iBEC) as a USB device,
// following restore-protocol.md §1–§3. It knows nothing about how requests reach it: the
// simulated bus calls it directly, a umockdev bridge can call it from usbdevfs URBs. A stage
// change is a re-enumeration, so the bus makes a new IBootDevice for every attach.
//
// Choices where the notes are silent:
// - SecureROM checks the DFU suffix/CRC and the personalization when the zero-length DNLOAD
//   starts the manifest; GETSTATUS still walks 7 → 8 either way. On the USB reset a good iBSS
//   takes over (the phone comes back as recovery 0x1281 with a new nonce); a bad one leaves
//   SecureROM in charge and the phone comes back in DFU ("Possibly invalid iBSS").
// - `go` with an image that fails verification prints to the console and stays put (iBoot
//   refuses to jump). `bootx` with a missing or bad ramdisk/device tree/kernel cache (or a
//   rejected `firmware`/`rsepfirmware`) sends the phone back to recovery (iBoot from flash), as
//   idevicerestore's "Device reconnected in Recovery mode, most likely image personalization
//   failed" describes.
// - A USB reset of a recovery device re-enumerates it in the same stage (with the fresh nonce
//   every SimPhone stage entry draws).
// - Image4 devices keep the nonce they booted iBEC with: in the iBEC stage the device shows and
//   checks the nonce iBEC was verified against, not a fresh one (idevicerestore re-requests TSS
//   after iBSS only).
// - Commands iBoot does not know are answered on the console, not stalled; `getenv` of an unset
//   variable stalls (libirecovery reads a pipe error there as "no value").
import {
  checkDfuTrailer,
  decodeIBootCommand,
  DfuRequestCode,
  DfuState,
  DfuStatusCode,
  encodeDfuStatus,
  encodeIBootReply,
  formatIBootNonces,
  formatIBootSerial,
  IBOOT_CONSOLE_ENDPOINT,
  IBootProductId,
  ProtocolError,
  RECOVERY_UPLOAD_ENDPOINT,
  splitIBootCommand,
  type IBootSerial,
} from '@bench/protocols';
import type { Stage } from '@bench/bench-domain';
import { UsbTransportError } from '@bench/usb-transport';
import { UNTHROTTLED, type LinkThrottle } from '../bench-hooks';
import { BENCH_LEVEL_FAULTS, NO_FAULTS, type PhoneFaults } from '../faults/fault-types';
import type { BootStage, SimPhone } from '../phone/sim-phone';
import { verifyPersonalizedImage } from '../personalization/sim-ticket';
import { answerGetDescriptor, usbStall } from './usb-descriptors';
import type { SimControlSetup, SimDeviceDescriptor, SimUsbFunction } from './usb-function';

/** The personalization check, or a stand-in with its shape (tests of other failure modes). */
export type ImageVerifier = (
  img4: Uint8Array,
  expect: { ecid: bigint; apNonce: Uint8Array; expectedFourcc?: string },
) => { ok: true; fourcc: string } | { ok: false; reason: string; detail?: string };

/** verifyPersonalizedImage bound to the bench's signing key. */
export function imageVerifierFor(key: Uint8Array): ImageVerifier {
  return (img4, expect) => verifyPersonalizedImage(img4, { ...expect, key });
}

/** Remembers, per phone, the nonces its current boot chain was verified with (see header). */
export class BootChainMemory {
  private readonly nonces = new WeakMap<SimPhone, { apNonce: Buffer; sepNonce: Buffer }>();

  remember(phone: SimPhone, nonces: { apNonce: Buffer; sepNonce: Buffer }): void {
    this.nonces.set(phone, nonces);
  }

  recall(phone: SimPhone): { apNonce: Buffer; sepNonce: Buffer } | undefined {
    return this.nonces.get(phone);
  }
}

export interface IBootDeviceOptions {
  phone: SimPhone;
  verifyImage: ImageVerifier;
  /** Paces uploads at the port's link speed and controller share. */
  link?: LinkThrottle;
  faults?: PhoneFaults;
  bootChain?: BootChainMemory;
  /** Simulated ms between `bootx` and the restore ramdisk appearing behind usbmux. */
  restoreBootDelayMs?: number;
  /** Simulated ms a mode change keeps the phone off the bus. */
  reenumerationMs?: number;
  /** Largest upload kept (bigger ones stall): SecureROM's load area / iBoot's load buffer. */
  maxDfuUploadBytes?: number;
  maxRecoveryUploadBytes?: number;
}

/** Image types iBoot accepts per load command (a restore component or its plain twin, §6.2). */
const ACCEPTED_FOURCCS: Record<string, readonly string[] | undefined> = {
  ibss: ['ibss'],
  ibec: ['ibec'],
  ramdisk: ['rdsk'],
  devicetree: ['rdtr', 'dtre'],
  rsepfirmware: ['rsep', 'sepi'],
  kernelcache: ['rkrn', 'krnl'],
  /** Trust caches and co-processor firmware: any type the ticket lists. */
  firmware: undefined,
} as const;

type Loadable = 'ibss' | 'ibec' | 'ramdisk' | 'devicetree' | 'rsepfirmware' | 'kernelcache' | 'firmware';

interface Verdict {
  ok: boolean;
  fourcc?: string;
  reason?: string;
}

const SECURE_ROM_TAG = 'iBoot-3332.0.0.1.23';
const DEFAULT_MAX_DFU_UPLOAD = 4 * 1024 * 1024;
const DEFAULT_MAX_RECOVERY_UPLOAD = 512 * 1024 * 1024;
const CONSOLE_LIMIT = 16 * 1024;

export class IBootDevice implements SimUsbFunction {
  readonly descriptor: SimDeviceDescriptor;
  /** The stage this enumeration shows (a stage change re-enumerates). */
  readonly stage: BootStage;
  private readonly phone: SimPhone;
  private readonly link: LinkThrottle;
  private readonly faults: PhoneFaults;
  private readonly chain: BootChainMemory;
  private readonly nonces: { apNonce: Buffer; sepNonce: Buffer };
  private readonly strings: Map<number, string>;
  private disposed = false;
  private hung = false;
  private corruptNext = false;
  private handedOver = false;
  private readonly pending = new Set<() => void>();

  // DFU (SecureROM)
  private dfuState: number = DfuState.dfuIdle;
  private dfuStatus: number = DfuStatusCode.ok;
  private nextBlock = 0;
  private dfuImage?: Verdict;

  // Recovery (iBoot/iBSS/iBEC)
  private readonly env: Map<string, string>;
  private readonly volatileNames = new Set<string>();
  private reply = '';
  private upload?: Upload;
  private lastUpload?: Upload;
  private readonly loaded: Partial<Record<Loadable, Verdict>> = {};
  /** Verdicts of every `firmware` upload (trust caches, co-processor firmware) in this boot. */
  private readonly firmware: Verdict[] = [];
  private readonly alternates = new Map<number, number>();
  private console: Buffer[] = [];
  private consoleBytes = 0;
  private consoleWaiter?: () => void;

  constructor(private readonly options: IBootDeviceOptions) {
    this.phone = options.phone;
    this.stage = options.phone.stage;
    if (this.mode === undefined)
      throw new RangeError(`a phone in stage ${this.stage} is not a DFU/recovery device`);
    this.link = options.link ?? UNTHROTTLED;
    this.faults = options.faults ?? NO_FAULTS;
    this.chain = options.bootChain ?? new BootChainMemory();
    const remembered = this.stage === 'ibec' ? this.chain.recall(this.phone) : undefined;
    this.nonces = remembered ?? {
      apNonce: Buffer.from(this.phone.apNonce),
      sepNonce: Buffer.from(this.phone.sepNonce),
    };
    this.env = new Map(this.phone.nvram);
    this.descriptor = this.buildDescriptor();
    this.strings = new Map([
      [1, formatIBootNonces(this.nonces)],
      [2, 'Apple Inc.'],
      [3, this.mode === 'dfu' ? 'Apple Mobile Device (DFU Mode)' : 'Apple Mobile Device (Recovery Mode)'],
      [4, formatIBootSerial(this.serial())],
    ]);
    if (this.mode === 'recovery') this.print(this.banner());
  }

  get mode(): 'dfu' | 'recovery' | undefined {
    if (this.stage === 'secure-rom') return 'dfu';
    if (this.stage === 'iboot' || this.stage === 'ibss' || this.stage === 'ibec') return 'recovery';
    return undefined;
  }

  /** The ApNonce this enumeration shows in string descriptor 1 and checks tickets against. */
  get apNonce(): Buffer {
    return this.nonces.apNonce;
  }

  stringDescriptor(index: number): string | undefined {
    return this.strings.get(index);
  }

  async control(setup: SimControlSetup, data: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    await this.gate(signal);
    const descriptor = answerGetDescriptor(this, setup);
    if (descriptor) return descriptor;
    if (this.mode === 'dfu') return this.dfuControl(setup, data, signal);
    return this.recoveryControl(setup, data);
  }

  async bulkOut(endpoint: number, data: Uint8Array, signal: AbortSignal): Promise<void> {
    await this.gate(signal);
    if (this.mode !== 'recovery' || endpoint !== RECOVERY_UPLOAD_ENDPOINT) {
      throw usbStall(`bulk OUT 0x${endpoint.toString(16)}`);
    }
    await this.receiveUpload(data, signal);
  }

  async bulkIn(endpoint: number, length: number, signal: AbortSignal): Promise<Uint8Array> {
    await this.gate(signal);
    if (this.mode !== 'recovery' || endpoint !== IBOOT_CONSOLE_ENDPOINT || this.alternates.get(1) !== 1) {
      throw usbStall(`bulk IN 0x${endpoint.toString(16)} (console needs interface 1, alternate 1)`);
    }
    while (this.consoleBytes === 0) await this.waitForConsole(signal);
    const all = Buffer.concat(this.console);
    const out = all.subarray(0, length);
    this.console = out.length < all.length ? [all.subarray(out.length)] : [];
    this.consoleBytes = all.length - out.length;
    return out;
  }

  setConfiguration(value: number): void {
    if (value !== 1) throw usbStall(`SET_CONFIGURATION ${value}`);
  }

  setInterface(iface: number, alternate: number): void {
    const known = this.descriptor.interfaces.find((i) => i.number === iface);
    if (!known?.alternates.some((a) => a.alternate === alternate)) {
      throw new UsbTransportError('not-found', `interface ${iface} has no alternate setting ${alternate}`);
    }
    this.alternates.set(iface, alternate);
  }

  /**
   * DFU: a good iBSS takes over (recovery, stage ibss), anything else leaves SecureROM in charge.
   * Recovery: the device re-enumerates in the stage it is in.
   */
  reset(): void {
    if (this.disposed || this.handedOver) return;
    this.handedOver = true;
    const delay = this.options.reenumerationMs;
    if (this.mode === 'dfu') {
      const accepted = this.dfuState === DfuState.manifestWaitReset && this.dfuImage?.ok === true;
      this.phone.reboot(
        accepted ? 'ibss' : 'secure-rom',
        delay,
        accepted ? 'iBSS took over' : 'usb reset in DFU',
      );
    } else {
      this.phone.reboot(this.stage, delay, 'usb reset');
    }
  }

  dispose(): void {
    this.disposed = true;
    for (const wake of this.pending) wake();
    this.pending.clear();
  }

  // ── DFU ──────────────────────────────────────────────────────────────────────────────

  private async dfuControl(
    setup: SimControlSetup,
    data: Uint8Array,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    const none = new Uint8Array(0);
    if (setup.bmRequestType === 0xa1 && setup.bRequest === DfuRequestCode.getStatus)
      return this.dfuGetStatus(setup);
    if (setup.bmRequestType === 0xa1 && setup.bRequest === DfuRequestCode.getState) {
      return Uint8Array.of(this.dfuState).subarray(0, setup.wLength);
    }
    if (setup.bmRequestType === 0x21 && setup.bRequest === DfuRequestCode.dnload) {
      await this.dfuDownload(setup.wValue, data, signal);
      return none;
    }
    if (setup.bmRequestType === 0x21 && setup.bRequest === DfuRequestCode.clrStatus) {
      if (this.dfuState === DfuState.error) this.restartDfu();
      return none;
    }
    if (setup.bmRequestType === 0x21 && setup.bRequest === DfuRequestCode.abort) {
      this.restartDfu();
      return none;
    }
    throw usbStall(`DFU request 0x${setup.bmRequestType.toString(16)}/${setup.bRequest}`);
  }

  private dfuGetStatus(setup: SimControlSetup): Uint8Array {
    // GETSTATUS moves the synchronous states on: DNLOAD-SYNC → DNLOAD-IDLE, MANIFEST-SYNC →
    // MANIFEST → MANIFEST-WAIT-RESET (SecureROM is not manifestation tolerant).
    if (this.dfuState === DfuState.dnloadSync) this.dfuState = DfuState.dnloadIdle;
    else if (this.dfuState === DfuState.manifestSync) this.dfuState = DfuState.manifest;
    else if (this.dfuState === DfuState.manifest) this.dfuState = DfuState.manifestWaitReset;
    const bytes = encodeDfuStatus({
      status: this.dfuStatus,
      pollTimeoutMs: 0,
      state: this.dfuState,
      stringIndex: 0,
    });
    return bytes.subarray(0, setup.wLength);
  }

  private async dfuDownload(block: number, data: Uint8Array, signal: AbortSignal): Promise<void> {
    const accepting: number[] = [DfuState.dfuIdle, DfuState.dnloadSync, DfuState.dnloadIdle];
    if (!accepting.includes(this.dfuState))
      return this.dfuFail(DfuStatusCode.errStalledPacket, `DNLOAD in state ${this.dfuState}`);
    if (data.length === 0) {
      if (this.dfuState === DfuState.dfuIdle)
        return this.dfuFail(DfuStatusCode.errNotDone, 'empty DNLOAD with no image');
      this.dfuState = DfuState.manifestSync;
      this.dfuImage = this.verifyDfuImage();
      return;
    }
    // Blocks are numbered from 0; the split-off trailer repeats the last number (libirecovery).
    if (block !== this.nextBlock && block !== this.nextBlock - 1) {
      return this.dfuFail(DfuStatusCode.errAddress, `DNLOAD block ${block}, expected ${this.nextBlock}`);
    }
    const max = this.options.maxDfuUploadBytes ?? DEFAULT_MAX_DFU_UPLOAD;
    const upload = (this.upload ??= new Upload());
    if (upload.bytes + data.length > max)
      return this.dfuFail(DfuStatusCode.errAddress, `DFU image over ${max} bytes`);
    await this.transferIn(upload, data, 'send-ibss', signal);
    if (block === this.nextBlock) this.nextBlock++;
    this.dfuState = DfuState.dnloadSync;
  }

  private verifyDfuImage(): Verdict {
    const received = this.upload?.take() ?? new Uint8Array(0);
    this.upload = undefined;
    const trailer = checkDfuTrailer(received);
    const verdict: Verdict = trailer.crcOk
      ? this.verify(trailer.image, 'ibss')
      : { ok: false, reason: 'DFU suffix CRC mismatch' };
    this.noteImage('iBSS', verdict, trailer.image.length);
    return verdict;
  }

  private dfuFail(status: number, why: string): never {
    this.dfuState = DfuState.error;
    this.dfuStatus = status;
    throw usbStall(why);
  }

  private restartDfu(): void {
    this.dfuState = DfuState.dfuIdle;
    this.dfuStatus = DfuStatusCode.ok;
    this.nextBlock = 0;
    this.upload = undefined;
    this.dfuImage = undefined;
  }

  // ── Recovery ─────────────────────────────────────────────────────────────────────────

  private recoveryControl(setup: SimControlSetup, data: Uint8Array): Uint8Array {
    const none = new Uint8Array(0);
    if (setup.bmRequestType === 0x40 && (setup.bRequest === 0 || setup.bRequest === 1)) {
      this.command(this.decodeCommand(data));
      return none;
    }
    if (setup.bmRequestType === 0xc0 && setup.bRequest === 0)
      return encodeIBootReply(this.reply, setup.wLength);
    if (setup.bmRequestType === 0x41 && setup.bRequest === 0) {
      this.upload = new Upload();
      this.lastUpload = undefined;
      return none;
    }
    // The zero-length DNLOAD idevicerestore sends after `go` and the kernel cache: harmless here.
    if (setup.bmRequestType === 0x21 && setup.bRequest === DfuRequestCode.dnload && data.length === 0)
      return none;
    throw usbStall(`request 0x${setup.bmRequestType.toString(16)}/${setup.bRequest} in recovery`);
  }

  private decodeCommand(data: Uint8Array): string {
    try {
      return decodeIBootCommand(data);
    } catch (error) {
      if (error instanceof ProtocolError) throw usbStall(error.message);
      throw error;
    }
  }

  private async receiveUpload(data: Uint8Array, signal: AbortSignal): Promise<void> {
    const upload = (this.upload ??= new Upload());
    if (data.length === 0) {
      upload.zeroLengthPacket = true;
      return;
    }
    const max = this.options.maxRecoveryUploadBytes ?? DEFAULT_MAX_RECOVERY_UPLOAD;
    if (upload.bytes + data.length > max) throw usbStall(`upload over ${max} bytes`);
    await this.transferIn(upload, data, this.stage === 'ibec' ? 'boot-ramdisk' : 'send-ibec', signal);
    this.lastUpload = upload;
  }

  private command(line: string): void {
    const { verb, args, rest } = splitIBootCommand(line);
    this.print(`] ${line}`);
    switch (verb) {
      case 'getenv':
        return this.getenv(args[0]);
      case 'setenv':
      case 'setenvnp':
        return this.setenv(args[0], rest.slice((args[0] ?? '').length).trim(), verb === 'setenvnp');
      case 'saveenv':
        return this.saveenv();
      case 'reboot':
      case 'reset':
        return this.rebootFromFlash(verb);
      case 'go':
        return this.go();
      case 'ramdisk':
      case 'devicetree':
      case 'rsepfirmware':
        return this.load(verb);
      case 'firmware':
        return this.loadFirmware();
      case 'setpicture':
      case 'ticket':
      case 'lpolrestore':
        return this.consume(verb);
      case 'bgcolor':
        return;
      case 'bootx':
        return this.bootx();
      default:
        this.print(`Unknown command ${verb}`);
    }
  }

  private getenv(name: string | undefined): void {
    const value = name === undefined ? undefined : this.env.get(name);
    if (value === undefined) throw usbStall(`getenv ${name ?? ''}: no such variable`);
    this.reply = value;
  }

  private setenv(name: string | undefined, value: string, volatile: boolean): void {
    if (!name) throw usbStall('setenv without a name');
    this.env.set(name, value);
    if (volatile) this.volatileNames.add(name);
    else this.volatileNames.delete(name);
  }

  private saveenv(): void {
    for (const [name, value] of this.env)
      if (!this.volatileNames.has(name)) this.phone.nvram.set(name, value);
    this.phone.note('nvram-saved', { ecid: this.phone.identity.ecidHex });
  }

  private rebootFromFlash(verb: string): void {
    const next: BootStage = this.phone.nvram.get('auto-boot') === 'true' ? 'ios' : 'iboot';
    this.handOver(next, verb);
  }

  private go(): void {
    const image = this.takeUpload();
    if (!image) return this.print('go: no image loaded');
    const verdict = this.verify(image, 'ibec');
    this.noteImage('iBEC', verdict, image.length);
    if (!verdict.ok) return this.print(`go: image validation failed: ${verdict.reason}`);
    // iBEC keeps the nonce it was booted with (see header).
    this.chain.remember(this.phone, this.nonces);
    this.handOver('ibec', 'go');
  }

  private load(verb: 'ramdisk' | 'devicetree' | 'rsepfirmware'): void {
    const image = this.takeUpload();
    const verdict: Verdict = image ? this.verify(image, verb) : { ok: false, reason: 'no image loaded' };
    this.loaded[verb] = verdict;
    this.noteImage(verb, verdict, image?.length ?? 0);
    this.print(verdict.ok ? `${verb} loaded (${image?.length ?? 0} bytes)` : `${verb}: ${verdict.reason}`);
  }

  private loadFirmware(): void {
    const image = this.takeUpload();
    const verdict: Verdict = image
      ? this.verify(image, 'firmware')
      : { ok: false, reason: 'no image loaded' };
    this.firmware.push(verdict);
    this.noteImage('firmware', verdict, image?.length ?? 0);
    this.print(verdict.ok ? `firmware ${verdict.fourcc} loaded` : `firmware: ${verdict.reason}`);
  }

  private consume(verb: string): void {
    const image = this.takeUpload();
    this.print(`${verb}: ${image ? `${image.length} bytes` : 'no image'}`);
  }

  private bootx(): void {
    const kernel = this.takeUpload();
    const kernelVerdict: Verdict = kernel
      ? this.verify(kernel, 'kernelcache')
      : { ok: false, reason: 'no kernel cache' };
    this.noteImage('kernelcache', kernelVerdict, kernel?.length ?? 0);
    const missing: string[] = (['ramdisk', 'devicetree'] as const).filter((part) => !this.loaded[part]?.ok);
    // A rejected trust cache or firmware leaves the ramdisk unable to boot.
    if (this.firmware.some((f) => !f.ok)) missing.push('firmware');
    if (this.loaded.rsepfirmware && !this.loaded.rsepfirmware.ok) missing.push('rsepfirmware');
    if (this.stage !== 'ibec' || missing.length || !kernelVerdict.ok) {
      const reason =
        this.stage !== 'ibec'
          ? `bootx in ${this.stage}`
          : [
              ...missing.map((m) => `${m} missing or invalid`),
              ...(kernelVerdict.ok ? [] : [kernelVerdict.reason]),
            ].join(', ');
      this.phone.note('bootx-failed', { ecid: this.phone.identity.ecidHex, reason });
      this.print(`bootx: ${reason}`);
      return this.handOver('iboot', 'bootx failed');
    }
    this.phone.note('bootx', { ecid: this.phone.identity.ecidHex });
    this.handOver('restore-ramdisk', 'bootx', this.options.restoreBootDelayMs ?? 8_000);
  }

  private takeUpload(): Buffer | undefined {
    const upload = this.lastUpload;
    this.lastUpload = undefined;
    this.upload = undefined;
    if (!upload) return undefined;
    if (upload.bytes % 512 === 0 && !upload.zeroLengthPacket) {
      this.phone.note('upload-without-zlp', { ecid: this.phone.identity.ecidHex, bytes: upload.bytes });
    }
    return upload.take();
  }

  private handOver(next: BootStage, reason: string, delayMs = this.options.reenumerationMs): void {
    if (this.handedOver) return;
    this.handedOver = true;
    this.phone.reboot(next, delayMs, reason);
  }

  // ── shared ───────────────────────────────────────────────────────────────────────────

  private verify(image: Uint8Array, kind: Loadable): Verdict {
    const result = this.options.verifyImage(image, {
      ecid: this.phone.identity.ecid,
      apNonce: this.nonces.apNonce,
    });
    if (!result.ok)
      return { ok: false, reason: result.detail ? `${result.reason}: ${result.detail}` : result.reason };
    const accepted = ACCEPTED_FOURCCS[kind];
    if (accepted && !accepted.includes(result.fourcc)) {
      return { ok: false, fourcc: result.fourcc, reason: `a '${result.fourcc}' image is not a ${kind}` };
    }
    return { ok: true, fourcc: result.fourcc };
  }

  private noteImage(component: string, verdict: Verdict, bytes: number): void {
    const detail = {
      ecid: this.phone.identity.ecidHex,
      component,
      stage: this.stage,
      bytes,
      fourcc: verdict.fourcc,
    };
    if (verdict.ok) this.phone.note('image-accepted', detail);
    else this.phone.note('image-rejected', { ...detail, reason: verdict.reason });
  }

  /** Moves upload bytes over the link, asking the fault engine at each percent. */
  private async transferIn(
    upload: Upload,
    data: Uint8Array,
    stage: Stage,
    signal: AbortSignal,
  ): Promise<void> {
    await this.link.transfer(data.length, signal);
    upload.append(data, this.corruptNext);
    this.corruptNext = false;
    const progress = upload.progress();
    if (progress !== upload.lastReported) {
      upload.lastReported = progress;
      this.checkFaults(stage, progress);
    }
  }

  private checkFaults(stage: Stage, progress: number | undefined): void {
    const fault = this.faults.check(this.phone, { stage, progress });
    if (!fault) return;
    if (fault.kind === 'hang') this.hung = true;
    else if (fault.kind === 'corrupt-transfer') this.corruptNext = true;
    else if (BENCH_LEVEL_FAULTS.has(fault.kind)) {
      // The fault engine already pulled the cable / cut the power; the transfer dies with it.
      throw new UsbTransportError('no-device', `${fault.kind} during ${stage}`);
    }
  }

  /** Every request first passes here: a gone device fails, a hung one never answers. */
  private async gate(signal: AbortSignal): Promise<void> {
    if (this.hung) while (!signal.aborted && !this.disposed) await this.sleep(signal, false);
    if (this.disposed) throw new UsbTransportError('no-device', 'the device left the bus');
    if (this.hung) throw new UsbTransportError('timeout', 'the device does not answer');
  }

  private async waitForConsole(signal: AbortSignal): Promise<void> {
    if (this.disposed) throw new UsbTransportError('no-device', 'the device left the bus');
    if (signal.aborted) throw new UsbTransportError('timeout', 'console quiet');
    await this.sleep(signal, true);
  }

  /** Resolves on the next wake-up (console output when `console`), abort or dispose; callers re-check. */
  private sleep(signal: AbortSignal, console: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted || this.disposed) return resolve();
      const wake = () => {
        this.pending.delete(wake);
        if (this.consoleWaiter === wake) this.consoleWaiter = undefined;
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.pending.add(wake);
      if (console) this.consoleWaiter = wake;
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private print(line: string): void {
    const bytes = Buffer.from(`${line}\n`, 'latin1');
    this.console.push(bytes);
    this.consoleBytes += bytes.length;
    while (this.consoleBytes > CONSOLE_LIMIT && this.console.length > 1) {
      this.consoleBytes -= this.console.shift()?.length ?? 0;
    }
    this.consoleWaiter?.();
  }

  private banner(): string {
    const model = this.phone.identity.model;
    const what = this.stage === 'ibss' ? 'iBSS' : this.stage === 'ibec' ? 'iBEC' : 'iBoot';
    return `${what} for ${model.hardwareModel}, Copyright 2007-2023, Apple Inc.\nEntering recovery mode, starting command prompt`;
  }

  private serial(): IBootSerial {
    const { model, ecid, serialNumber } = this.phone.identity;
    const chip = { cpid: model.cpid, cprv: 0x11, cpfm: 0x03, scep: 0x01, bdid: model.bdid, ecid, ibfl: 0x3c };
    return this.mode === 'dfu'
      ? { ...chip, srtg: SECURE_ROM_TAG }
      : { sdom: 0x01, ...chip, srnm: serialNumber };
  }

  private buildDescriptor(): SimDeviceDescriptor {
    const dfu = this.mode === 'dfu';
    const endpoint = (address: number) => ({ address, maxPacketSize: 512 });
    return {
      vendorId: 0x05ac,
      productId: dfu ? IBootProductId.dfu : IBootProductId.recovery2,
      deviceClass: 0,
      bcdUSB: 0x0200,
      bcdDevice: 0x0100,
      maxPacketSize0: 64,
      manufacturerIndex: 2,
      productIndex: 3,
      serialNumberIndex: 4,
      maxPowerMa: 500,
      // Interface classes are unconfirmed (restore-protocol.md §1.1); nothing matches on them.
      interfaces: dfu
        ? [
            {
              number: 0,
              interfaceClass: 0xfe,
              interfaceSubClass: 0x01,
              interfaceProtocol: 0x02,
              alternates: [{ alternate: 0, endpoints: [] }],
            },
          ]
        : [
            {
              number: 0,
              interfaceClass: 0xff,
              interfaceSubClass: 0xff,
              interfaceProtocol: 0x00,
              alternates: [{ alternate: 0, endpoints: [endpoint(RECOVERY_UPLOAD_ENDPOINT)] }],
            },
            {
              number: 1,
              interfaceClass: 0xff,
              interfaceSubClass: 0xff,
              interfaceProtocol: 0x01,
              alternates: [
                { alternate: 0, endpoints: [] },
                { alternate: 1, endpoints: [endpoint(IBOOT_CONSOLE_ENDPOINT)] },
              ],
            },
          ],
    };
  }
}

/** Bytes of one upload, and how far along it is (from the IMG4's DER length, when readable). */
class Upload {
  private readonly chunks: Buffer[] = [];
  bytes = 0;
  zeroLengthPacket = false;
  total?: number;
  lastReported?: number;

  append(data: Uint8Array, corrupt: boolean): void {
    const chunk = Buffer.from(data);
    if (corrupt) chunk[chunk.length >> 1] ^= 0x5a;
    if (this.bytes === 0) this.total = derTotalLength(chunk);
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  progress(): number | undefined {
    return this.total ? Math.min(100, Math.floor((this.bytes / this.total) * 100)) : undefined;
  }

  take(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Total length of a DER SEQUENCE from its first bytes (IMG4 uploads start with one). */
export function derTotalLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 2 || bytes[0] !== 0x30) return undefined;
  const first = bytes[1];
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || bytes.length < 2 + count) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + bytes[2 + i];
  return 2 + count + length;
}
