// The device end of ASR on its data port (12345): Initiate, read the host's packet info, check a
// few out-of-band ranges of the image, then take the payload chunk by chunk (each 0x20000-byte
// chunk followed by its SHA-1 when checksums are on), paced by the phone's link. Every device
// message is one XML plist in one write, under 64 KiB, and each is sent right after the host's
// previous step: Debian's idevicerestore reads each with one recv and a 5 s timeout
// (idevicerestore-1.0.0-restore-mode.md §3).
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  ASR_CHECKSUM_LENGTH,
  ASR_CHUNK_SIZE,
  ASR_MAX_PLIST_BYTES,
  asrChunks,
  asrDeviceMessages,
  decodeAsrPacketInfo,
  decodePlistDict,
  encodePlistXml,
  type PlistDict,
} from '@bench/protocols';
import type { LinkThrottle } from '../bench-hooks';
import type { FilesystemVerifier, InstalledBuild } from '../restored/restore-verifier';
import type { SeededRandom } from '../time/random';
import { StreamReader } from '../usbmux/stream-reader';

/** What the device does next after a progress checkpoint: go on, or damage the bytes in flight. */
export type AsrProgressDecision = 'continue' | 'corrupt';

export interface AsrReceiverOptions {
  link: LinkThrottle;
  random: SeededRandom;
  /** Ends the transfer when the phone detaches or the restore is abandoned. */
  signal: AbortSignal;
  /** Ask the host for a SHA-1 after every chunk (what real devices do: `--chunkchecksum`). */
  checksumChunks?: boolean;
  /** How many out-of-band ranges to check before the payload (the first one at offset 0). */
  oobReads?: number;
  /** Content verifier for an image of the announced size; undefined → only the SHA-1s are checked. */
  filesystem?: (size: number) => FilesystemVerifier | undefined;
  /**
   * Called at 0 % and whenever the stream passes another whole percent. It may throw (the restore
   * ends with a status), never settle (a hung phone: reading stops, the host's writes block), or
   * ask to corrupt the next chunk.
   */
  progress?: (percent: number) => Promise<AsrProgressDecision>;
  /** Real ms the device waits for each host step (the host runs in real time, unscaled). */
  stepTimeoutMs?: number;
}

export type AsrReceiveResult =
  | { ok: true; bytes: number; contentVerified: boolean; build?: InstalledBuild }
  | { ok: false; reason: string; verification: boolean };

class AsrFailure extends Error {
  constructor(
    message: string,
    readonly verification: boolean,
  ) {
    super(message);
  }
}

const PLIST_END = Buffer.from('</plist>', 'latin1');
const OOB_LENGTHS = [72, 512, 4096, 128_000];
/** The first read takes the image header (a real ASR reads the partition map there first). */
const FIRST_OOB_LENGTHS = [512, 4096];

function isXmlSpace(byte: number): boolean {
  return byte === 0x0a || byte === 0x0d || byte === 0x20 || byte === 0x09 || byte === 0x00;
}

export async function receiveFilesystem(
  channel: Duplex,
  options: AsrReceiverOptions,
): Promise<AsrReceiveResult> {
  const session = new AsrSession(channel, options);
  try {
    return await session.run();
  } catch (error) {
    if (error instanceof AsrFailure)
      return { ok: false, reason: error.message, verification: error.verification };
    if (options.signal.aborted) throw error;
    return { ok: false, reason: (error as Error).message, verification: false };
  } finally {
    session.dispose();
  }
}

class AsrSession {
  private readonly reader: StreamReader;
  private readonly checksumChunks: boolean;
  private readonly stepTimeoutMs: number;

  constructor(
    private readonly channel: Duplex,
    private readonly options: AsrReceiverOptions,
  ) {
    this.reader = new StreamReader(channel, 'ASR');
    this.checksumChunks = options.checksumChunks ?? true;
    this.stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
  }

  dispose(): void {
    if (!this.channel.destroyed) this.channel.end();
  }

  async run(): Promise<AsrReceiveResult> {
    this.sendPlist(asrDeviceMessages.initiate(this.checksumChunks));
    const info = decodeAsrPacketInfo(await this.readPlist());
    const size = info.payloadSize;
    const checksums = this.checksumChunks && info.checksumChunkSize !== undefined;
    if (checksums && info.checksumChunkSize !== ASR_CHUNK_SIZE) {
      throw new AsrFailure(`host offers checksum chunks of ${info.checksumChunkSize} bytes`, false);
    }
    const verifier = this.options.filesystem?.(size);
    await this.validate(size, verifier);
    this.sendPlist(asrDeviceMessages.payload());
    await this.receivePayload(size, checksums, verifier);
    return { ok: true, bytes: size, contentVerified: verifier !== undefined, build: verifier?.build };
  }

  /** OOBData: the host answers each range with exactly those bytes of the image. */
  private async validate(size: number, verifier: FilesystemVerifier | undefined): Promise<void> {
    if (size === 0) return;
    const reads = this.options.oobReads ?? 3;
    for (let i = 0; i < reads; i++) {
      const length = Math.min(size, this.options.random.pick(i === 0 ? FIRST_OOB_LENGTHS : OOB_LENGTHS));
      const offset = i === 0 ? 0 : this.options.random.int(0, size - length + 1);
      this.sendPlist(asrDeviceMessages.oobData(offset, length));
      const bytes = await this.step(this.reader.readExactly(length, this.options.signal));
      const verdict = verifier?.verifyRange(offset, bytes);
      if (verdict && !verdict.ok) {
        throw new AsrFailure(`image validation failed at OOB ${offset}+${length}: ${verdict.reason}`, true);
      }
    }
  }

  private async receivePayload(
    size: number,
    checksums: boolean,
    verifier: FilesystemVerifier | undefined,
  ): Promise<void> {
    const { link, signal } = this.options;
    let lastPercent = -1;
    let decision: AsrProgressDecision = await this.progress(0);
    lastPercent = 0;
    for (const chunk of asrChunks(size)) {
      const wire = chunk.length + (checksums ? ASR_CHECKSUM_LENGTH : 0);
      await link.transfer(wire, signal);
      let data = await this.step(this.reader.readExactly(chunk.length, signal));
      if (decision === 'corrupt') data = damaged(data, this.options.random);
      if (checksums) {
        const expected = await this.step(this.reader.readExactly(ASR_CHECKSUM_LENGTH, signal));
        const actual = createHash('sha1').update(data).digest();
        if (!actual.equals(expected)) {
          throw new AsrFailure(`chunk ${chunk.index} at offset ${chunk.offset}: SHA-1 mismatch`, true);
        }
      }
      const verdict = verifier?.verifyRange(chunk.offset, data);
      if (verdict && !verdict.ok) {
        throw new AsrFailure(`chunk ${chunk.index} at offset ${chunk.offset}: ${verdict.reason}`, true);
      }
      const percent = size === 0 ? 100 : Math.floor(((chunk.offset + chunk.length) * 100) / size);
      if (percent > lastPercent) {
        lastPercent = percent;
        decision = await this.progress(percent);
      }
    }
  }

  private progress(percent: number): Promise<AsrProgressDecision> {
    return this.options.progress ? this.options.progress(percent) : Promise.resolve('continue');
  }

  private async readPlist(): Promise<PlistDict> {
    const bytes = await this.step(
      this.reader.readThrough(PLIST_END, ASR_MAX_PLIST_BYTES, this.options.signal),
    );
    // libplist ends its XML with a newline; raw data only follows after our next request.
    this.reader.discardBuffered(isXmlSpace);
    return decodePlistDict(bytes, { maxBytes: ASR_MAX_PLIST_BYTES });
  }

  private sendPlist(message: PlistDict): void {
    const bytes = encodePlistXml(message);
    if (bytes.length >= ASR_MAX_PLIST_BYTES)
      throw new Error(`ASR plist of ${bytes.length} bytes is too large`);
    this.channel.write(bytes);
  }

  /** One host step, bounded by the device's patience. */
  private step<T>(operation: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new AsrFailure(`host sent nothing for ${this.stepTimeoutMs} ms`, false)),
        this.stepTimeoutMs,
      );
      operation.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? new AsrFailure(error.message, false) : error);
        },
      );
    });
  }
}

/** A copy of `data` with one byte flipped, as a bad cable or a failing buffer would leave it. */
function damaged(data: Buffer, random: SeededRandom): Buffer {
  if (data.length === 0) return data;
  const copy = Buffer.from(data);
  copy[random.int(0, copy.length)] ^= 0x5a;
  return copy;
}
