// The device side of one restore, from StartRestore to the reboot: a script of ProgressMsg,
// DataRequestMsg and CheckpointMsg on the restored connection, the filesystem over ASR, and a
// final StatusMsg (restore-protocol.md §3.6–3.8). Durations go through the phone's SimClock;
// faults are asked at the bench's checkpoints. A host that vanishes mid-restore leaves the phone
// to reboot into recovery (auto-boot false), as an interrupted real phone does.
import type { Duplex } from 'node:stream';
import type { Stage } from '@bench/bench-domain';
import {
  ASR_PORT,
  RestoreStatus,
  optionalArray,
  optionalBoolean,
  optionalData,
  optionalDict,
  restoreStatusMeaning,
  restoredDeviceMessages,
  type PlistDict,
} from '@bench/protocols';
import { receiveFilesystem, type AsrProgressDecision, type AsrReceiveResult } from '../asr/asr-receiver';
import { BENCH_LEVEL_FAULTS, type SimFault } from '../faults/fault-types';
import { eraseLockdownState } from '../lockdownd/lockdown-values';
import { pairingOf } from '../pairing/device-pairing';
import type { SimPhone } from '../phone/sim-phone';
import type { MuxDevice } from '../usbmux/mux-device';
import type { PlistServiceConnection } from '../usbmux/plist-service-connection';
import { DeviceLog } from './device-log';
import type { RestoreHostWaits, RestoreTimings } from './restore-timings';
import type { InstalledBuild, RestoreVerifier, Verdict } from './restore-verifier';

/** Which optional DataRequests this device makes (RootTicket and SystemImageData always). */
export interface RestoreDataRequests {
  KernelCache: boolean;
  DeviceTree: boolean;
  NORData: boolean;
  FDRTrustData: boolean;
}

export interface RestoreSessionOptions {
  verifier: RestoreVerifier;
  timings: RestoreTimings;
  hostWaits: RestoreHostWaits;
  requests: RestoreDataRequests;
  asrChecksumChunks: boolean;
  asrOobReads: number;
  /** Overrides what the phone reports after the restore (else the filesystem image says). */
  installedBuild?: (phone: SimPhone) => InstalledBuild | undefined;
}

/** What the phone remembers of its last restore (restored's SavedDebugInfo / PreviousRestoreLog). */
export interface RestoreMemory {
  previousExitStatus?: string;
  previousLog?: string;
}

const memories = new WeakMap<SimPhone, RestoreMemory>();

export function restoreMemoryOf(phone: SimPhone): RestoreMemory {
  let memory = memories.get(phone);
  if (!memory) {
    memory = {};
    memories.set(phone, memory);
  }
  return memory;
}

/** The restore ends with StatusMsg `status` (a fault, a rejected image, a failed transfer). */
class RestoreFailure extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly amrError?: number,
  ) {
    super(detail);
  }
}

type SessionState = 'running' | 'hung' | 'failed' | 'final-sent' | 'done' | 'interrupted';

/** Hooks the session needs from the restore-mode device it runs on. */
export interface RestoreSessionHost {
  /** Closes the FDR control channels (done when the final status is acknowledged). */
  closeFdr(): void;
}

export class RestoreSession {
  private state: SessionState = 'running';
  private readonly abort = new AbortController();
  private readonly phone: SimPhone;
  private readonly log: DeviceLog;
  private pendingReply?: { resolve: (reply: PlistDict) => void };
  private finalAck?: () => void;
  private rootTicket: Uint8Array = new Uint8Array(0);
  private cancelFailureReboot?: () => void;
  private readonly erase: boolean;
  private installed?: InstalledBuild;

  constructor(
    private readonly device: MuxDevice,
    private readonly connection: PlistServiceConnection,
    private readonly host: RestoreSessionHost,
    private readonly options: RestoreSessionOptions,
    restoreOptions: PlistDict,
  ) {
    this.phone = device.phone;
    this.log = new DeviceLog(this.phone);
    this.erase = optionalBoolean(restoreOptions, 'CreateFilesystemPartitions') !== false;
    device.detached.addEventListener('abort', () => this.onHostGone('the phone left usbmux'), { once: true });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** A message from the host on the restore connection that is not a request (a data reply, the final ack). */
  hostMessage(message: PlistDict): void {
    if (message.MsgType === 'ReceivedFinalStatusMsg') {
      this.host.closeFdr();
      this.finalAck?.();
      return;
    }
    const pending = this.pendingReply;
    this.pendingReply = undefined;
    pending?.resolve(message);
  }

  /** The restore connection closed (or the phone detached). */
  onHostGone(reason: string): void {
    const state = this.state;
    if (state === 'final-sent') {
      this.finalAck?.();
      return;
    }
    this.abort.abort(new Error(reason));
    // A hung phone notices nothing; a finished one is already rebooting.
    if (state !== 'running' && state !== 'failed') return;
    this.state = 'interrupted';
    this.cancelFailureReboot?.();
    if (this.phone.stage !== 'restore-ramdisk') return;
    this.log.line(`host connection lost (${reason}); restore aborted`);
    const memory = restoreMemoryOf(this.phone);
    memory.previousExitStatus = 'restore aborted: host connection lost';
    memory.previousLog = this.log.text;
    this.phone.note('restore-interrupted', { reason });
    // The ramdisk is gone with the reboot; iBoot comes up in recovery because auto-boot is false.
    this.phone.nvram.set('auto-boot', 'false');
    this.phone.reboot('iboot', this.options.timings.interruptedRebootMs, 'restore interrupted');
  }

  async run(): Promise<void> {
    try {
      await this.script();
    } catch (error) {
      if (this.abort.signal.aborted) return;
      if (error instanceof RestoreFailure) return this.fail(error);
      return this.fail(new RestoreFailure(RestoreStatus.Fail, `restored: ${(error as Error).message}`));
    }
  }

  private async script(): Promise<void> {
    const { timings, requests } = this.options;
    this.log.line('restored: StartRestore received, entering restore');
    await this.checkpoint('restored-connect');
    const previous = restoreMemoryOf(this.phone).previousLog;
    if (previous) await this.send({ MsgType: 'PreviousRestoreLogMsg', PreviousRestoreLog: previous });
    await this.operation(28, timings.waitForNandMs);
    await this.receiveRootTicket();
    await this.send(restoredDeviceMessages.checkpoint(0x580, 'PARTITION_NAND'));
    await this.operation(11, timings.partitionMapMs);
    await this.operation(12, timings.createFilesystemMs);
    await this.receiveFilesystem();
    await this.percentOperation(14, timings.verifyMs, 'verify');
    await this.operation(15, timings.checkFilesystemsMs);
    await this.operation(16, timings.mountFilesystemsMs);
    if (requests.KernelCache) {
      await this.receiveComponent('KernelCache', 'KernelCacheFile');
      await this.operation(27, timings.installKernelcacheMs);
    }
    if (requests.DeviceTree) {
      await this.receiveComponent('DeviceTree', 'DeviceTreeFile');
      await this.operation(61, timings.installDeviceTreeMs);
    }
    if (requests.NORData) {
      const images = await this.receiveNorData();
      await this.send(restoredDeviceMessages.checkpoint(0x5b0, 'FLASH_FIRMWARE'));
      await this.percentOperation(18, timings.flashFirmwareMs, 'flash-firmware', images);
    }
    if (requests.FDRTrustData) await this.request('FDRTrustData');
    await this.operation(17, timings.fixupVarMs);
    await this.operation(50, timings.systemKeyBagMs);
    if ((await this.checkpoint('finalize')) === 'corrupt') {
      throw new RestoreFailure(RestoreStatus.VerificationError, 'system volume seal does not verify');
    }
    await this.operation(29, timings.unmountMs);
    await this.succeed();
  }

  // --- the steps ---

  private async receiveRootTicket(): Promise<void> {
    const reply = await this.request('RootTicket');
    const ticket = optionalData(reply, 'RootTicketData') ?? new Uint8Array(0);
    this.rootTicket = ticket;
    const verdict = this.options.verifier.rootTicket(ticket, this.phone);
    this.require(verdict, `RootTicket (${ticket.length} bytes)`);
    this.log.line(`RootTicket accepted (${ticket.length} bytes, ${this.options.verifier.name})`);
  }

  private async receiveComponent(component: string, key: string): Promise<Uint8Array> {
    const reply = await this.request(component);
    const image = optionalData(reply, key);
    if (!image) throw new RestoreFailure(RestoreStatus.Fail, `${component}: the host sent no ${key}`);
    this.verifyComponent(component, image);
    return image;
  }

  private async receiveNorData(): Promise<Uint8Array[]> {
    const reply = await this.request('NORData');
    const llb = optionalData(reply, 'LlbImageData');
    if (!llb) throw new RestoreFailure(RestoreStatus.Fail, 'NORData: the host sent no LlbImageData');
    this.verifyComponent('LLB', llb);
    const images: Uint8Array[] = [llb];
    const nor = reply.NorImageData;
    const entries = Array.isArray(nor)
      ? (optionalArray(reply, 'NorImageData') ?? [])
      : Object.values(optionalDict(reply, 'NorImageData') ?? {});
    for (const [index, entry] of entries.entries()) {
      if (!(entry instanceof Uint8Array)) {
        throw new RestoreFailure(RestoreStatus.Fail, `NORData: NorImageData item ${index} is not data`);
      }
      // The NOR images carry their own type tags (ibot, dtre, logo…): check the shape and the ticket.
      this.verifyComponent('', entry);
      images.push(entry);
    }
    this.log.line(`NORData accepted: LLB and ${entries.length} firmware images`);
    return images;
  }

  private verifyComponent(component: string, image: Uint8Array): void {
    const verdict = this.options.verifier.component(component, image, {
      phone: this.phone,
      rootTicket: this.rootTicket,
    });
    this.require(verdict, component || 'firmware image');
  }

  private require(verdict: Verdict, what: string): void {
    if (verdict.ok) return;
    this.log.line(`ERROR: ${what} rejected: ${verdict.reason}`);
    throw new RestoreFailure(RestoreStatus.Fail, `${what} rejected: ${verdict.reason}`);
  }

  private async receiveFilesystem(): Promise<void> {
    const ports = this.device.ports;
    const result = new Promise<AsrReceiveResult>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new RestoreFailure(RestoreStatus.Fail, 'ASR: the host never connected')),
        this.options.hostWaits.asrConnectMs,
      );
      ports.listen(ASR_PORT, (channel: Duplex) => {
        clearTimeout(timer);
        ports.unlisten(ASR_PORT);
        receiveFilesystem(channel, {
          link: this.device.context.link,
          random: this.phone.random,
          signal: this.abort.signal,
          checksumChunks: this.options.asrChecksumChunks,
          oobReads: this.options.asrOobReads,
          stepTimeoutMs: this.options.hostWaits.asrStepMs,
          filesystem: (size) => this.options.verifier.filesystem(size, this.phone),
          progress: (percent) => this.filesystemProgress(percent),
        }).then(resolve, reject);
      });
      this.abort.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    });
    this.log.line('waiting for the filesystem on ASR port 12345');
    await this.send(restoredDeviceMessages.dataRequest('SystemImageData', { dataPort: ASR_PORT }));
    const outcome = await result;
    ports.unlisten(ASR_PORT);
    if (!outcome.ok) {
      this.log.line(`ERROR: ASR: ${outcome.reason}`);
      const status = outcome.verification ? RestoreStatus.VerificationError : RestoreStatus.Fail;
      throw new RestoreFailure(status, `ASR: ${outcome.reason}`);
    }
    this.installed = this.options.installedBuild?.(this.phone) ?? outcome.build;
    this.log.line(
      `filesystem received: ${outcome.bytes} bytes, ${outcome.contentVerified ? 'content verified' : 'checksums verified'}`,
    );
    this.phone.note('filesystem-verified', {
      bytes: outcome.bytes,
      contentVerified: outcome.contentVerified,
      verifier: this.options.verifier.name,
    });
  }

  private filesystemProgress(percent: number): Promise<AsrProgressDecision> {
    // Not awaited: idevicerestore reads restored only after the whole ASR exchange, so waiting
    // for these writes to drain could stall the stream behind a full socket buffer.
    void this.send(restoredDeviceMessages.progress(13, percent));
    return this.checkpoint('send-filesystem', percent);
  }

  // --- ending ---

  private async succeed(): Promise<void> {
    const acknowledged = new Promise<void>((resolve) => {
      this.finalAck = resolve;
      setTimeout(resolve, this.options.hostWaits.finalStatusAckMs).unref();
    });
    this.log.line('restore finished successfully');
    this.state = 'final-sent';
    await this.send(restoredDeviceMessages.status(RestoreStatus.Success));
    await acknowledged;
    this.host.closeFdr();
    await this.rebootIntoNewSystem();
  }

  private async rebootIntoNewSystem(): Promise<void> {
    const fault = this.faults('reboot');
    if (fault?.kind === 'hang') {
      this.state = 'hung';
      this.phone.note('fault', { kind: fault.kind, stage: 'reboot' });
      return;
    }
    if (fault && BENCH_LEVEL_FAULTS.has(fault.kind)) {
      this.state = 'done';
      return;
    }
    this.state = 'done';
    await this.phone.clock.sleep(this.options.timings.rebootPauseMs);
    // Powered off meanwhile (dead battery): it boots nowhere until the bench powers it again.
    if (this.phone.stage !== 'restore-ramdisk') return;
    if (this.erase) {
      pairingOf(this.phone).forgetAll();
      eraseLockdownState(this.phone);
    }
    const build = this.installed;
    if (build) {
      this.phone.productVersion = build.productVersion;
      this.phone.buildVersion = build.buildVersion;
      this.phone.nvram.set('build-version', `iBoot-${build.buildVersion}`);
    }
    const memory = restoreMemoryOf(this.phone);
    memory.previousExitStatus = 'restore finished successfully';
    memory.previousLog = undefined;
    this.phone.nvram.set('auto-boot', 'true');
    this.phone.note('restore-finished', {
      erase: this.erase,
      productVersion: this.phone.productVersion,
      buildVersion: this.phone.buildVersion,
      buildKnown: build !== undefined,
    });
    this.phone.reboot('ios', this.options.timings.bootToIosMs, 'restore finished');
  }

  private async fail(failure: RestoreFailure): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'failed';
    const meaning = restoreStatusMeaning(failure.status);
    this.log.line(`ERROR: ${failure.detail}`);
    this.log.line(`restore failed with status ${failure.status} (${meaning})`);
    const memory = restoreMemoryOf(this.phone);
    memory.previousExitStatus = `restore failed with status ${failure.status}`;
    memory.previousLog = this.log.text;
    this.phone.note('restore-failed', { status: failure.status, detail: failure.detail });
    await this.send(
      restoredDeviceMessages.status(failure.status, {
        amrError: failure.amrError ?? amrErrorFor(failure.status),
        log: this.log.text,
      }),
    );
    // The device shows its failure screen for a while, then reboots into recovery.
    this.cancelFailureReboot = this.phone.clock.after(this.options.timings.failureRebootMs, () => {
      if (this.state !== 'failed') return;
      this.state = 'done';
      this.phone.nvram.set('auto-boot', 'false');
      this.phone.reboot('iboot', this.options.timings.interruptedRebootMs, 'restore failed');
    });
  }

  // --- plumbing ---

  private send(message: PlistDict): Promise<void> {
    return this.connection.send(message);
  }

  private async operation(operation: number, durationMs: number): Promise<void> {
    await this.send(restoredDeviceMessages.progress(operation, 0));
    this.log.line(`operation ${operation} started`);
    await this.sleep(durationMs);
  }

  /** An operation with a progress bar: percent steps, asking for faults at each. */
  private async percentOperation(
    operation: number,
    durationMs: number,
    stage: Stage,
    received?: Uint8Array[],
  ): Promise<void> {
    const steps = 10;
    this.log.line(`operation ${operation} started`);
    for (let step = 0; step <= steps; step++) {
      const percent = (step * 100) / steps;
      await this.send(restoredDeviceMessages.progress(operation, percent));
      if ((await this.checkpoint(stage, percent)) === 'corrupt') {
        const what = received ? 'firmware image' : 'system volume';
        throw new RestoreFailure(
          RestoreStatus.VerificationError,
          `${what} failed verification at ${percent}%`,
        );
      }
      if (step < steps) await this.sleep(durationMs / steps);
    }
  }

  /** Asks the host for data and waits for its bare-dict reply. */
  private async request(dataType: string): Promise<PlistDict> {
    const reply = new Promise<PlistDict>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new RestoreFailure(RestoreStatus.Fail, `${dataType}: no answer from the host`)),
        this.options.hostWaits.dataReplyMs,
      );
      this.pendingReply = {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      this.abort.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    });
    this.log.line(`requesting ${dataType}`);
    await this.send(restoredDeviceMessages.dataRequest(dataType));
    return this.untilAborted(reply);
  }

  private sleep(ms: number): Promise<void> {
    return this.phone.clock.sleep(ms, this.abort.signal);
  }

  private untilAborted<T>(promise: Promise<T>): Promise<T> {
    const signal = this.abort.signal;
    return new Promise<T>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private faults(stage: Stage, progress?: number): SimFault | undefined {
    return this.device.context.faults.check(this.phone, { stage, progress });
  }

  /**
   * Asks the fault engine at a checkpoint. `hang` and bench-level faults never return (the phone
   * stops; the bench may detach it), `status` ends the restore, `corrupt-transfer` is reported
   * back so the caller damages what it is receiving.
   */
  private async checkpoint(stage: Stage, progress?: number): Promise<AsrProgressDecision> {
    const fault = this.faults(stage, progress);
    if (!fault) return 'continue';
    this.phone.note('fault', { kind: fault.kind, stage, progress });
    if (fault.kind === 'hang') {
      this.state = 'hung';
      this.log.line(`(hung at ${stage}${progress === undefined ? '' : ` ${progress}%`})`);
      return this.untilAborted(new Promise<AsrProgressDecision>(() => undefined));
    }
    if (fault.kind === 'status') {
      throw new RestoreFailure(fault.code, `${describeStatusFault(fault.code)} during ${stage}`);
    }
    if (fault.kind === 'corrupt-transfer') return 'corrupt';
    if (fault.kind === 'battery-dies') {
      // restored notices the battery first and says so (op 39), as a real one does, then dies.
      await this.send(restoredDeviceMessages.progress(39, 0)).catch(() => undefined);
    }
    if (BENCH_LEVEL_FAULTS.has(fault.kind)) {
      return this.untilAborted(new Promise<AsrProgressDecision>(() => undefined));
    }
    return 'continue';
  }
}

/** What a device log says for the hardware-ish status codes (design §6 classes them). */
function describeStatusFault(status: number): string {
  switch (status) {
    case RestoreStatus.DiskFailure:
      return 'AppleNANDFTL: media error, unable to format the data partition';
    case RestoreStatus.MountFailed:
      return 'mount_apfs: failed to mount the system volume (error 5)';
    case RestoreStatus.SepFirmwareFailed:
    case RestoreStatus.SepFirmwareFailed50:
      return 'AppleSEPManager: SEP firmware load failed (boot timeout)';
    case RestoreStatus.FdrRecoveryFailed:
      return 'FDR: failed to recover factory data (sealed data mismatch)';
    case RestoreStatus.BasebandUpdateFailed:
      return 'BBUpdater: baseband did not respond after update';
    default:
      return `restore failed (${restoreStatusMeaning(status)})`;
  }
}

/** A plausible AMRError next to a failure status (idevicerestore returns -AMRError as its result). */
function amrErrorFor(status: number): number | undefined {
  return status > 0 ? status : undefined;
}
