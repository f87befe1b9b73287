// The host side of ASR: validates the filesystem image with the device (Initiate → packet info →
// OOBData requests at random offsets → Payload), then streams it in 0x20000-byte chunks, each
// followed by its SHA-1 when the device asked for checksum chunks.
//
// Memory is bounded: at most `readAheadChunks` chunks are read ahead of the socket, and every
// write waits for 'drain' when the socket's buffer is full, so a 2 GiB image never sits in memory.
//
// CPU per GB (the image is the bulk of a restore's work): the payload is read from the image
// ASR_CHUNKS_PER_READ chunks at a time into recycled buffers, and each such block goes to the
// socket as one corked write (chunk, SHA-1, chunk, SHA-1, …: one writev). Reading and writing
// per 128 KiB chunk cost about 15 % more CPU per GB (a thread-pool round trip and a syscall for
// every chunk); what remains is mostly the SHA-1 itself and the kernel's copies.
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Duplex } from 'node:stream';
import {
  BenchError,
  CancelledError,
  type FailureClass,
  type FailureEvidence,
  type RandomAccessSource,
} from '@bench/bench-domain';
import {
  ASR_CHUNK_SIZE,
  ASR_PORT,
  asrPacketInfo,
  AsrPlistDecoder,
  asrWireLength,
  decodeAsrCommand,
  encodePlistXml,
  ProtocolError,
  type AsrCommand,
  type PlistDict,
} from '@bench/protocols';
import type { DevicePortConnector } from './restored-client';

export type AsrErrorKind =
  /** The device closed or reset the ASR connection (idevicerestore: "Unable to send data to ASR"). */
  | 'closed'
  /** No command from the device, or no progress writing, within the limit. */
  | 'timeout'
  /** A command we cannot serve (unknown Command, OOBData outside the image). */
  | 'protocol'
  /** The image could not be read as large as it claims to be. */
  | 'source';

const ASR_FAILURE_CLASS: Record<AsrErrorKind, FailureClass> = {
  closed: 'transient-usb',
  timeout: 'transient-usb',
  protocol: 'unknown',
  source: 'firmware-invalid',
};

export class AsrError extends BenchError {
  constructor(
    readonly kind: AsrErrorKind,
    message: string,
    evidence: FailureEvidence = {},
    options?: { cause?: unknown },
  ) {
    super(`ASR: ${message}`, ASR_FAILURE_CLASS[kind], evidence, options);
  }
}

export interface AsrSenderOptions {
  /** Longest wait for the next device command (Initiate, OOBData, Payload). */
  commandTimeoutMs?: number;
  /** Longest time the socket may refuse more data before the device counts as stalled. */
  stallTimeoutMs?: number;
  /**
   * Chunks read from the source ahead of the ones being written (rounded up to whole reads of
   * ASR_CHUNKS_PER_READ chunks; default 4, one read).
   */
  readAheadChunks?: number;
  /** Biggest OOBData request served. */
  maxOobLength?: number;
  /** Payload bytes sent so far (checksums not counted) and the image size. */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
}

export interface AsrResult {
  checksumChunks: boolean;
  oobRequests: number;
  payloadBytes: number;
  wireBytes: number;
}

/** ASR chunks read from the image in one read and written to the socket in one writev (512 KiB). */
export const ASR_CHUNKS_PER_READ = 4;
const BLOCK_SIZE = ASR_CHUNK_SIZE * ASR_CHUNKS_PER_READ;

export class AsrSender {
  private readonly decoder = new AsrPlistDecoder();
  private readonly commands: AsrCommand[] = [];
  private commandWaiter?: { resolve(command: AsrCommand): void; reject(error: Error): void };
  private phase: 'control' | 'payload' | 'ending' | 'done' = 'control';
  /** The one write-side wait in progress (drain or end), failed by destroy(). */
  private writeWaiter?: { resolve(): void; reject(error: Error): void };
  private failure?: Error;
  private readonly commandTimeoutMs: number;
  private readonly stallTimeoutMs: number;
  private readonly readAhead: number;
  private readonly maxOobLength: number;
  private readonly pool?: BlockPool;

  constructor(
    private readonly channel: Duplex,
    private readonly source: RandomAccessSource,
    private readonly options: AsrSenderOptions = {},
  ) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 120_000;
    // in reads (blocks) of ASR_CHUNKS_PER_READ chunks
    this.readAhead = Math.max(1, Math.ceil((options.readAheadChunks ?? 4) / ASR_CHUNKS_PER_READ));
    this.maxOobLength = options.maxOobLength ?? 64 * 1024 * 1024;
    // the blocks read ahead + the one being written (a write's callback hands its buffer back)
    if (isFillable(source)) this.pool = new BlockPool(this.readAhead + 1, BLOCK_SIZE);
    channel.on('data', this.onData);
    channel.on('end', this.onEnd);
    channel.on('close', this.onEnd);
    channel.on('error', this.onError);
    channel.resume(); // usbmux hands connected sockets over paused
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.signal?.aborted) this.onAbort();
    else if (channel.destroyed) this.onEnd();
  }

  /** Connects to the ASR port, retrying while the device has not opened it yet (idevicerestore: 10 × 2 s). */
  static async connect(
    connect: DevicePortConnector,
    options: { port?: number; attempts?: number; retryDelayMs?: number; signal?: AbortSignal } = {},
  ): Promise<Duplex> {
    const attempts = options.attempts ?? 10;
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect(options.port ?? ASR_PORT, options.signal);
      } catch (error) {
        if (attempt >= attempts || options.signal?.aborted || !(error instanceof BenchError)) throw error;
        if (error.failureClass !== 'transient-usb') throw error;
        await delay(options.retryDelayMs ?? 2_000, undefined, { signal: options.signal }).catch(() => {
          throw new CancelledError('ASR connect cancelled');
        });
      }
    }
  }

  /** Runs validation and the payload; resolves once every byte was handed to the socket and it ended. */
  async send(): Promise<AsrResult> {
    try {
      const result = await this.run();
      this.phase = 'ending';
      await this.waitForWriteSide('end', (done) => this.channel.end(done));
      this.finish();
      return result;
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
      throw this.failure ?? error;
    }
  }

  private async run(): Promise<AsrResult> {
    const size = this.source.size;
    const first = await this.nextCommand();
    if (first.command !== 'Initiate' && first.command !== 'missing') {
      throw new AsrError('protocol', `the device began with ${describe(first)} instead of Initiate`);
    }
    let checksumChunks = first.checksumChunks;
    await this.writeControl(asrPacketInfo(size, checksumChunks));
    let oobRequests = 0;
    for (;;) {
      const command = await this.nextCommand();
      if (command.command === 'Payload') break;
      if (command.command === 'OOBData') {
        await this.serveOob(command.offset, command.length, size);
        oobRequests++;
      } else if (command.command === 'Initiate') {
        checksumChunks = command.checksumChunks;
        await this.writeControl(asrPacketInfo(size, checksumChunks));
      } else {
        throw new AsrError('protocol', `unexpected ${describe(command)} during validation`);
      }
    }
    this.phase = 'payload';
    await this.streamPayload(size, checksumChunks);
    return {
      checksumChunks,
      oobRequests,
      payloadBytes: size,
      wireBytes: asrWireLength(size, checksumChunks),
    };
  }

  private async serveOob(offset: number, length: number, size: number): Promise<void> {
    if (length > this.maxOobLength)
      throw new AsrError('protocol', `OOBData asks for ${length} bytes (limit ${this.maxOobLength})`);
    if (offset + length > size) {
      throw new AsrError(
        'protocol',
        `OOBData asks for ${length} bytes at ${offset}, past the ${size}-byte image`,
      );
    }
    const bytes = await this.read(offset, length);
    await this.write(bytes);
  }

  private async streamPayload(size: number, checksumChunks: boolean): Promise<void> {
    const count = Math.max(1, Math.ceil(size / BLOCK_SIZE));
    const window: Array<Promise<PayloadBlock>> = [];
    let scheduled = 0;
    let sent = 0;
    for (let index = 0; index < count; index++) {
      // the block to write now and `readAhead` more behind it
      while (window.length <= this.readAhead && scheduled < count) {
        const offset = scheduled * BLOCK_SIZE;
        const pending = this.readBlock(offset, Math.min(BLOCK_SIZE, size - offset));
        pending.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
        window.push(pending);
        scheduled++;
      }
      // Not raced against failure: a pending race would pin every block until the transfer ends.
      // A failed connection is noticed by writeBlock() right after the read completes.
      const block = await (window.shift() as Promise<PayloadBlock>);
      await this.writeBlock(block, checksumChunks);
      // progress per chunk, as the device counts it
      const end = sent + block.data.length;
      do {
        sent = Math.min(end, sent + ASR_CHUNK_SIZE);
        this.options.onProgress?.(sent, size);
      } while (sent < end);
    }
  }

  /**
   * A block's chunks, each followed by its SHA-1 when the device asked for checksums, in one
   * corked write; the block's buffer goes back to the pool once the socket is done with it.
   */
  private async writeBlock({ data, release }: PayloadBlock, checksumChunks: boolean): Promise<void> {
    if (this.failure) {
      release();
      throw this.failure;
    }
    const pieces: Buffer[] = [];
    // an empty image is one empty chunk (its SHA-1 is still sent)
    const chunks = Math.max(1, Math.ceil(data.length / ASR_CHUNK_SIZE));
    for (let i = 0; i < chunks; i++) {
      const chunk = data.subarray(i * ASR_CHUNK_SIZE, (i + 1) * ASR_CHUNK_SIZE);
      if (chunk.length > 0) pieces.push(chunk);
      if (checksumChunks) pieces.push(createHash('sha1').update(chunk).digest());
    }
    if (pieces.length === 0) return release();
    let writable = true;
    this.channel.cork();
    for (let i = 0; i < pieces.length; i++) {
      writable = this.channel.write(pieces[i], i === pieces.length - 1 ? () => release() : undefined);
    }
    this.channel.uncork();
    if (!writable) await this.drain();
  }

  /** Payload bytes: into a recycled pool buffer when the source can fill one, else fresh. */
  private async readBlock(offset: number, length: number): Promise<PayloadBlock> {
    if (!this.pool || !isFillable(this.source))
      return { data: await this.read(offset, length), release: noop };
    const buffer = await this.pool.acquire();
    const release = () => this.pool?.release(buffer);
    const target = buffer.subarray(0, length);
    let filled: number;
    try {
      filled = await this.source.readInto(offset, target);
    } catch (error) {
      release();
      if (error instanceof BenchError) throw error;
      throw new AsrError(
        'source',
        `reading ${length} bytes at ${offset} failed: ${String(error)}`,
        {},
        { cause: error },
      );
    }
    if (filled !== length) {
      release();
      throw new AsrError('source', `the image gave ${filled} bytes at ${offset}, ${length} expected`);
    }
    return { data: target, release };
  }

  private async read(offset: number, length: number): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await this.source.read(offset, length);
    } catch (error) {
      if (error instanceof BenchError) throw error;
      throw new AsrError(
        'source',
        `reading ${length} bytes at ${offset} failed: ${String(error)}`,
        {},
        { cause: error },
      );
    }
    if (bytes.length !== length) {
      throw new AsrError('source', `the image gave ${bytes.length} bytes at ${offset}, ${length} expected`);
    }
    return bytes;
  }

  /** Each control plist goes out in one write (the device reads one plist per recv). */
  private writeControl(message: PlistDict): Promise<void> {
    return this.write(encodePlistXml(message));
  }

  private async write(bytes: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.channel.write(bytes)) await this.drain();
  }

  private drain(): Promise<void> {
    return this.waitForWriteSide('drain', (done) => this.channel.once('drain', done));
  }

  /**
   * Waits for the socket to accept more (drain) or to finish (end), failing on destroy() and
   * when the device takes nothing for stallTimeoutMs.
   */
  private waitForWriteSide(
    what: string,
    start: (done: (error?: Error | null) => void) => void,
  ): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.writeWaiter = undefined;
        reject(
          new AsrError(
            'timeout',
            `the device took no data for ${this.stallTimeoutMs} ms (waiting for ${what})`,
          ),
        );
      }, this.stallTimeoutMs);
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          if (this.writeWaiter === waiter) this.writeWaiter = undefined;
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          if (this.writeWaiter === waiter) this.writeWaiter = undefined;
          reject(error);
        },
      };
      this.writeWaiter = waiter;
      start((error) =>
        error
          ? waiter.reject(new AsrError('closed', `write failed: ${error.message}`, {}, { cause: error }))
          : waiter.resolve(),
      );
    });
  }

  private nextCommand(): Promise<AsrCommand> {
    const queued = this.commands.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<AsrCommand>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.commandWaiter = undefined;
        reject(new AsrError('timeout', `no command from the device within ${this.commandTimeoutMs} ms`));
      }, this.commandTimeoutMs);
      this.commandWaiter = {
        resolve: (command) => {
          clearTimeout(timer);
          resolve(command);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    // After Payload the device has nothing more to say; whatever comes is not ours to parse.
    if (this.phase !== 'control') return;
    try {
      for (const dict of this.decoder.push(chunk)) this.deliver(decodeAsrCommand(dict));
    } catch (error) {
      const detail = error instanceof ProtocolError ? error.message : String(error);
      this.destroy(
        new AsrError('protocol', `undecodable message from the device: ${detail}`, {}, { cause: error }),
      );
    }
  };

  private deliver(command: AsrCommand): void {
    const waiter = this.commandWaiter;
    this.commandWaiter = undefined;
    if (waiter) waiter.resolve(command);
    else this.commands.push(command);
  }

  private readonly onEnd = (): void => {
    if (this.phase === 'done') return;
    // Everything reached the kernel before the device hung up: it read it all and closed.
    if (this.phase === 'ending' && this.channel.writableLength === 0) return this.writeWaiter?.resolve();
    this.destroy(
      new AsrError(
        'closed',
        `the device closed the connection during ${this.phase === 'payload' ? 'the payload' : 'validation'}`,
      ),
    );
  };

  private readonly onError = (error: Error): void => {
    if (this.phase === 'done') return;
    this.destroy(
      new AsrError(
        'closed',
        `connection failed during ${this.phase}: ${error.message}`,
        {},
        { cause: error },
      ),
    );
  };

  private readonly onAbort = (): void => {
    this.destroy(new CancelledError('ASR transfer cancelled'));
  };

  private destroy(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.phase = 'done';
    this.commandWaiter?.reject(error);
    this.commandWaiter = undefined;
    this.writeWaiter?.reject(error);
    this.pool?.close(error);
    this.cleanup();
    this.channel.on('error', () => undefined);
    this.channel.destroy();
  }

  /** Success, our side ended: the device closes its side once it has read everything. */
  private finish(): void {
    this.phase = 'done';
    this.cleanup();
    this.channel.on('error', () => undefined);
    if (this.channel.destroyed) return;
    // A device that never closes must not keep the socket forever.
    setTimeout(() => this.channel.destroy(), 30_000).unref();
  }

  private cleanup(): void {
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.channel.off('data', this.onData);
    this.channel.off('end', this.onEnd);
    this.channel.off('close', this.onEnd);
    this.channel.off('error', this.onError);
  }
}

/**
 * A source that fills a caller's buffer (fs.read-style): the sender then recycles a couple of
 * block buffers instead of receiving a fresh one per read. Fresh buffers are garbage the GC
 * collects late, which shows as tens of MB of RSS over a multi-GB image.
 */
export interface FillableRandomAccessSource extends RandomAccessSource {
  /** Fills `target` with the bytes at `offset`; resolves with the count (less only at the end). */
  readInto(offset: number, target: Buffer): Promise<number>;
}

function isFillable(source: RandomAccessSource): source is FillableRandomAccessSource {
  return typeof (source as Partial<FillableRandomAccessSource>).readInto === 'function';
}

interface PayloadBlock {
  data: Buffer;
  release(): void;
}

function noop(): void {}

/** At most `max` buffers of `size` bytes, handed back by the socket's write callbacks. */
class BlockPool {
  private readonly free: Buffer[] = [];
  private created = 0;
  private readonly waiters: Array<{ resolve(buffer: Buffer): void; reject(error: Error): void }> = [];
  private failure?: Error;

  constructor(
    private readonly max: number,
    private readonly size: number,
  ) {}

  acquire(): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const buffer = this.free.pop();
    if (buffer) return Promise.resolve(buffer);
    if (this.created < this.max) {
      this.created++;
      return Promise.resolve(Buffer.allocUnsafeSlow(this.size));
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(buffer: Buffer): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(buffer);
    else this.free.push(buffer);
  }

  close(error: Error): void {
    this.failure = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

function describe(command: AsrCommand): string {
  return command.command === 'unknown' ? `Command '${command.name}'` : command.command;
}
