// Talking to SecureROM (DFU) and iBoot/iBSS/iBEC (recovery) over an open UsbDeviceHandle, as
// libirecovery does (restore-protocol.md §2). The client gets an already-open handle; finding
// and opening the device by ECID is openIBootDevice's job.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEcid, type Ecid } from '@bench/bench-domain';
import {
  decodeDfuStatus,
  decodeIBootReply,
  DFU_STATUS_LENGTH,
  DfuState,
  dfuStateName,
  encodeIBootCommand,
  IBOOT_CONSOLE_ALT_SETTING,
  IBOOT_CONSOLE_ENDPOINT,
  IBOOT_CONSOLE_INTERFACE,
  IBOOT_REPLY_LENGTH,
  IBootRequest,
  IBootTimeouts,
  ibootModeOfProductId,
  isImage4Aware,
  isJumpCommand,
  opensConsoleInterface,
  parseIBootNonces,
  parseIBootSerial,
  planDfuUpload,
  planRecoveryUpload,
  ProtocolError,
  RECOVERY_UPLOAD_ENDPOINT,
  type DfuStatus,
  type IBootMode,
  type IBootSerial,
} from '@bench/protocols';
import type { UsbDeviceHandle, UsbDeviceInfo } from '../bus/usb-bus';
import { UsbTransportError, type UsbErrorKind } from '../bus/usb-errors';
import { throwIfAborted } from './abort';
import { DfuStateError, EcidMismatchError, IBootIdentityError } from './iboot-errors';

/** Who the device says it is, from its iSerialNumber and nonce strings. */
export interface IBootIdentity extends Omit<IBootSerial, 'ecid' | 'apNonce' | 'sepNonce'> {
  mode: IBootMode;
  productId: number;
  portPath: string;
  /** Undefined only for WTF-era devices, whose serial has no ECID. */
  ecid?: Ecid;
  apNonce?: Buffer;
  sepNonce?: Buffer;
  image4Supported: boolean;
  /** The raw iSerialNumber string. */
  serialString: string;
}

export interface UploadProgress {
  sent: number;
  total: number;
  /** 0–100. */
  percent: number;
}

export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

export interface DfuUploadOptions extends UploadOptions {
  /** libirecovery polls GETSTATUS up to 20 times, 1 s apart, for a block to reach dfuDNLOAD-IDLE. */
  statusPollAttempts?: number;
  statusPollIntervalMs?: number;
}

export interface IBootClientOptions {
  /** Timeout of each USB transfer (libirecovery: 10 s). */
  transferTimeoutMs?: number;
  /** Waits between GETSTATUS polls; injectable so tests need not wait seconds. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface IBootOpenOptions extends IBootClientOptions {
  /** Refuse (EcidMismatchError) a device with another ECID, before claiming anything. */
  ecid?: Ecid | bigint | string;
}

/** After go/bootx/reset/reboot the device jumps away; these are how a transfer notices. */
const VANISHING_KINDS: ReadonlySet<UsbErrorKind> = new Set([
  'no-device',
  'pipe',
  'io',
  'not-found',
  'timeout',
  'interrupted',
]);
const CONSOLE_READ_SIZE = 0x1000;
const CONSOLE_MAX_BYTES = 64 * 1024;

function isVanishing(error: unknown): boolean {
  return error instanceof UsbTransportError && VANISHING_KINDS.has(error.kind);
}

export class IBootClient {
  private readonly timeoutMs: number;
  private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(
    readonly handle: UsbDeviceHandle,
    readonly identity: IBootIdentity,
    options: IBootClientOptions = {},
  ) {
    this.timeoutMs = options.transferTimeoutMs ?? IBootTimeouts.usb;
    this.wait = options.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal }));
  }

  /**
   * libirecovery's open sequence on an open handle: read and parse iSerialNumber (and check the
   * ECID), set configuration 1 if needed, claim interface 0 (and 1 with alt 1 for ids above
   * 0x1281), then read the nonces from string descriptor 1.
   */
  static async open(handle: UsbDeviceHandle, options: IBootOpenOptions = {}): Promise<IBootClient> {
    const device = handle.device;
    const mode = ibootModeOfProductId(device.productId);
    if (!mode) {
      throw new IBootIdentityError(
        `${device.portPath}: product id 0x${device.productId.toString(16)} is not DFU or recovery`,
      );
    }
    const serialString = await handle.getStringDescriptor(
      device.serialNumberIndex,
      options.transferTimeoutMs,
    );
    const serial = parseOrThrow(() => parseIBootSerial(serialString), device);
    const ecid = serial.ecid === undefined ? undefined : parseEcid(serial.ecid);
    if (options.ecid !== undefined) {
      const expected = parseEcid(options.ecid);
      if (ecid !== expected) throw new EcidMismatchError(expected, ecid);
    }
    if ((await handle.getConfiguration()) !== 1) await handle.setConfiguration(1);
    await handle.claimInterface(0);
    if (opensConsoleInterface(device.productId)) {
      await handle.claimInterface(IBOOT_CONSOLE_INTERFACE);
      await handle.setAlternateSetting(IBOOT_CONSOLE_INTERFACE, IBOOT_CONSOLE_ALT_SETTING);
    }
    const nonceString = await handle.getStringDescriptor(1, options.transferTimeoutMs);
    const nonces = parseOrThrow(() => parseIBootNonces(nonceString), device);
    const { ecid: _ecid, apNonce, sepNonce, ...rest } = serial;
    let ap = nonces.apNonce ?? apNonce;
    // Port DFU reports its nonce byte-reversed (libirecovery flips it back).
    if (ap && mode === 'port-dfu') ap = Buffer.from(ap).reverse();
    const identity: IBootIdentity = {
      ...rest,
      mode,
      productId: device.productId,
      portPath: device.portPath,
      ecid,
      apNonce: ap ? Buffer.from(ap) : undefined,
      sepNonce: (nonces.sepNonce ?? sepNonce) ? Buffer.from(nonces.sepNonce ?? sepNonce ?? []) : undefined,
      image4Supported: isImage4Aware(serial),
      serialString,
    };
    return new IBootClient(handle, identity, options);
  }

  get mode(): IBootMode {
    return this.identity.mode;
  }

  get device(): UsbDeviceInfo {
    return this.handle.device;
  }

  /** An iBoot command (bRequest 1 for go/bootx/reset). Jump commands tolerate the device leaving. */
  async sendCommand(command: string): Promise<void> {
    const { setup, data } = encodeIBootCommand(command);
    try {
      await this.handle.controlOut(setup, data, this.timeoutMs);
    } catch (error) {
      if (isJumpCommand(command) && isVanishing(error)) return;
      throw error;
    }
  }

  /** `getenv NAME` then the 0xC0 read; undefined when iBoot stalls the command (no such variable). */
  async getenv(name: string): Promise<string | undefined> {
    checkVariableName(name);
    try {
      await this.sendCommand(`getenv ${name}`);
    } catch (error) {
      if (error instanceof UsbTransportError && error.kind === 'pipe') return undefined;
      throw error;
    }
    return decodeIBootReply(
      await this.handle.controlIn(IBootRequest.readReply, IBOOT_REPLY_LENGTH, this.timeoutMs),
    );
  }

  /** The first byte of the reply to the last command (libirecovery's getret). */
  async getret(): Promise<number> {
    const reply = await this.handle.controlIn(IBootRequest.readReply, IBOOT_REPLY_LENGTH, this.timeoutMs);
    return reply[0] ?? 0;
  }

  setenv(name: string, value: string): Promise<void> {
    checkVariableName(name);
    return this.sendCommand(`setenv ${name} ${value}`);
  }

  /** Sets a variable for this boot only (never written by saveenv). */
  setenvnp(name: string, value: string): Promise<void> {
    checkVariableName(name);
    return this.sendCommand(`setenvnp ${name} ${value}`);
  }

  saveenv(): Promise<void> {
    return this.sendCommand('saveenv');
  }

  /** iBoot reboots: into iOS when `auto-boot` is saved as true, else back into recovery. */
  async reboot(): Promise<void> {
    try {
      await this.sendCommand('reboot');
    } catch (error) {
      if (!isVanishing(error)) throw error;
    }
  }

  /** Jump to the last uploaded image (iBEC after iBSS; iBEC from recovery). */
  go(): Promise<void> {
    return this.sendCommand('go');
  }

  /** Boot the uploaded kernel cache with the ramdisk and device tree. */
  bootx(): Promise<void> {
    return this.sendCommand('bootx');
  }

  /** The iBoot `reset` command (bRequest 1). For a USB port reset see resetUsb(). */
  reset(): Promise<void> {
    return this.sendCommand('reset');
  }

  /**
   * The zero-length DFU_DNLOAD idevicerestore sends after `go` and after the kernel cache upload
   * (5 s timeout, errors ignored: the device is usually leaving).
   */
  async kick(): Promise<void> {
    await this.handle
      .controlOut(IBootRequest.dfuDnload(0), new Uint8Array(0), IBootTimeouts.kick)
      .catch(() => undefined);
  }

  /** USB port reset; DFU devices hand over to the uploaded image and re-enumerate. */
  async resetUsb(): Promise<void> {
    try {
      await this.handle.reset();
    } catch (error) {
      if (!isVanishing(error)) throw error;
    }
  }

  /** Recovery-mode upload: 0x41, then bulk 0x04 in 0x8000-byte chunks, a ZLP after multiples of 512. */
  async uploadRecovery(data: Uint8Array, options: UploadOptions = {}): Promise<void> {
    this.requireMode('recovery', 'a recovery upload');
    const plan = planRecoveryUpload(data.length);
    throwIfAborted(options.signal);
    await this.handle.controlOut(IBootRequest.startUpload, new Uint8Array(0), this.timeoutMs);
    for (const chunk of plan.chunks) {
      throwIfAborted(options.signal);
      await this.handle.bulkOut(
        RECOVERY_UPLOAD_ENDPOINT,
        data.subarray(chunk.offset, chunk.offset + chunk.length),
        this.timeoutMs,
      );
      report(options, chunk.offset + chunk.length, data.length);
    }
    if (plan.zeroLengthPacket)
      await this.handle.bulkOut(RECOVERY_UPLOAD_ENDPOINT, new Uint8Array(0), this.timeoutMs);
  }

  /**
   * DFU upload with libirecovery's "notify finish": GETSTATE must be dfuIDLE, 0x800-byte
   * DNLOAD blocks each followed by GETSTATUS until dfuDNLOAD-IDLE, the suffix + CRC trailer,
   * then a zero-length DNLOAD (wValue = block count), two GETSTATUS and a USB reset. The device
   * then leaves the bus and, with a good iBSS, comes back in recovery.
   */
  async uploadDfu(data: Uint8Array, options: DfuUploadOptions = {}): Promise<void> {
    if (this.mode === 'recovery')
      throw new UsbTransportError('invalid', 'a DFU upload needs a DFU-mode device');
    throwIfAborted(options.signal);
    await this.checkIdle();
    const plan = planDfuUpload(data);
    let sent = 0;
    for (let i = 0; i < plan.blocks.length; i++) {
      throwIfAborted(options.signal);
      const block = plan.blocks[i];
      await this.handle.controlOut(IBootRequest.dfuDnload(block.wValue), block.data, this.timeoutMs);
      // libirecovery asks for status once per block index: not between a split-off last block and its trailer.
      if (plan.blocks[i + 1]?.wValue !== block.wValue) await this.awaitDownloadIdle(block.wValue, options);
      sent += block.imageBytes;
      report(options, sent, data.length);
    }
    await this.handle.controlOut(IBootRequest.dfuDnload(plan.blockCount), new Uint8Array(0), this.timeoutMs);
    await this.getDfuStatus();
    await this.getDfuStatus();
    await this.resetUsb();
  }

  async getDfuStatus(): Promise<DfuStatus> {
    const bytes = await this.handle.controlIn(IBootRequest.dfuGetStatus, DFU_STATUS_LENGTH, this.timeoutMs);
    try {
      return decodeDfuStatus(bytes);
    } catch (error) {
      throw new UsbTransportError('io', (error as ProtocolError).message, {}, { cause: error });
    }
  }

  async getDfuState(): Promise<number> {
    const bytes = await this.handle.controlIn(IBootRequest.dfuGetState, 1, this.timeoutMs);
    if (bytes.length < 1) throw new UsbTransportError('io', 'DFU GETSTATE returned no byte');
    return bytes[0];
  }

  clearDfuStatus(): Promise<void> {
    return this.handle.controlOut(IBootRequest.dfuClrStatus, new Uint8Array(0), this.timeoutMs);
  }

  /**
   * Reads the iBoot console (interface 1, alt 1, bulk IN 0x81) until it stays quiet for
   * `timeoutMs`, then switches back to interface 0 / alt 0 as libirecovery does.
   */
  async readConsole(timeoutMs: number = IBootTimeouts.console): Promise<string> {
    this.requireMode('recovery', 'the iBoot console');
    const keepConsole = opensConsoleInterface(this.device.productId);
    if (!keepConsole) await this.handle.claimInterface(IBOOT_CONSOLE_INTERFACE);
    await this.handle.setAlternateSetting(IBOOT_CONSOLE_INTERFACE, IBOOT_CONSOLE_ALT_SETTING);
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      while (total < CONSOLE_MAX_BYTES) {
        let chunk: Uint8Array;
        try {
          chunk = await this.handle.bulkIn(IBOOT_CONSOLE_ENDPOINT, CONSOLE_READ_SIZE, timeoutMs);
        } catch (error) {
          if (error instanceof UsbTransportError && error.kind === 'timeout') break;
          throw error;
        }
        if (chunk.length === 0) break;
        chunks.push(Buffer.from(chunk));
        total += chunk.length;
      }
    } finally {
      if (!keepConsole) {
        await this.handle.releaseInterface(IBOOT_CONSOLE_INTERFACE).catch(() => undefined);
        await this.handle.setAlternateSetting(0, 0).catch(() => undefined);
      }
    }
    return Buffer.concat(chunks).toString('latin1');
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private async checkIdle(): Promise<void> {
    const state = await this.getDfuState();
    if (state === DfuState.dfuIdle) return;
    if (state === DfuState.error) {
      await this.clearDfuStatus();
      throw new DfuStateError(
        'the DFU device was in dfuERROR; cleared it (CLRSTATUS), retry the upload',
        state,
        undefined,
      );
    }
    await this.handle.controlOut(IBootRequest.dfuAbort, new Uint8Array(0), this.timeoutMs);
    throw new DfuStateError(
      `the DFU device was in ${dfuStateName(state)}, not dfuIDLE; aborted`,
      state,
      undefined,
    );
  }

  private async awaitDownloadIdle(block: number, options: DfuUploadOptions): Promise<void> {
    let status = await this.getDfuStatus();
    const attempts = options.statusPollAttempts ?? 20;
    for (let i = 0; i < attempts && status.state !== DfuState.dnloadIdle; i++) {
      throwIfAborted(options.signal);
      await this.wait(options.statusPollIntervalMs ?? 1_000, options.signal).catch((error: unknown) => {
        throwIfAborted(options.signal);
        throw error;
      });
      status = await this.getDfuStatus();
    }
    if (status.state !== DfuState.dnloadIdle) {
      throw new DfuStateError(`DFU block ${block} never reached dfuDNLOAD-IDLE`, status.state, status.status);
    }
  }

  private requireMode(mode: IBootMode, what: string): void {
    if (this.mode !== mode)
      throw new UsbTransportError(
        'invalid',
        `${what} needs a ${mode}-mode device, this one is in ${this.mode}`,
      );
  }
}

function checkVariableName(name: string): void {
  if (!/^[\x21-\x7e]+$/.test(name)) throw new RangeError(`'${name}' is not an iBoot variable name`);
}

function report(options: UploadOptions, sent: number, total: number): void {
  options.onProgress?.({ sent, total, percent: total ? Math.floor((sent / total) * 100) : 100 });
}

function parseOrThrow<T>(parse: () => T, device: UsbDeviceInfo): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new IBootIdentityError(
        `${device.portPath}: ${error.message}`,
        { detail: error.what },
        { cause: error },
      );
    }
    throw error;
  }
}
