// The `OS` disk image of a synthetic IPSW. Its bytes are a 512-byte header followed by an
// AES-128-CTR keystream derived from a seed, so anyone holding the header (the first 512 bytes,
// which ASR asks for first) can check any range of the image without the file: CTR mode seeks to
// any 16-byte block. The simulated ASR receiver uses this to check every OOBData answer and the
// streamed payload chunk by chunk, and to report "full image received and verified".
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { RandomAccessSource } from '@bench/bench-domain';

export const SYNTHETIC_OS_HEADER_SIZE = 512;
export const SYNTHETIC_OS_MAGIC = 'BENCH-SIM-OS-IMG';
const VERSION = 1;
const BLOCK = 16;
const GENERATE_CHUNK = 1024 * 1024;

// Header layout (big-endian): magic[16] | version u32 | reserved u32 | size u64 | seed[32] |
// label[64] (NUL-padded UTF-8) | zeros … | SHA-256 of bytes 0..479 at 480..511.
const OFFSET = { magic: 0, version: 16, size: 24, seed: 32, label: 64, checksum: 480 } as const;

export class SyntheticOsImageError extends Error {}

export interface SyntheticOsImageOptions {
  size: number;
  /** Any string or bytes; hashed to the 32-byte seed stored in the header. */
  seed: string | Uint8Array;
  /** Shown in the header, e.g. "iPhone10,1 22G100". */
  label?: string;
}

export interface StreamVerification {
  ok: boolean;
  /** Every byte of the image arrived and matched. */
  complete: boolean;
  received: number;
  size: number;
  /** Offset of the first wrong byte, if any. */
  mismatchAt?: number;
  /** Bytes beyond the image's size. */
  excess: number;
}

export class SyntheticOsImage implements RandomAccessSource {
  readonly header: Buffer;
  private readonly key: Buffer;

  private constructor(
    readonly size: number,
    readonly seed: Buffer,
    readonly label: string,
  ) {
    this.key = createHash('sha256')
      .update('bench synthetic OS image key')
      .update(seed)
      .digest()
      .subarray(0, 16);
    this.header = encodeHeader(size, seed, label);
  }

  static create(options: SyntheticOsImageOptions): SyntheticOsImage {
    if (!Number.isSafeInteger(options.size) || options.size < SYNTHETIC_OS_HEADER_SIZE) {
      throw new SyntheticOsImageError(
        `a synthetic OS image needs at least ${SYNTHETIC_OS_HEADER_SIZE} bytes`,
      );
    }
    const seed = createHash('sha256').update(options.seed).digest();
    return new SyntheticOsImage(options.size, seed, options.label ?? '');
  }

  /** Rebuilds the image description from its first 512 bytes (what a receiver sees first). */
  static fromHeader(bytes: Uint8Array): SyntheticOsImage {
    if (bytes.length < SYNTHETIC_OS_HEADER_SIZE) throw new SyntheticOsImageError('header needs 512 bytes');
    const header = Buffer.from(bytes.buffer, bytes.byteOffset, SYNTHETIC_OS_HEADER_SIZE);
    if (header.toString('latin1', 0, 16) !== SYNTHETIC_OS_MAGIC) {
      throw new SyntheticOsImageError('not a synthetic OS image (wrong magic)');
    }
    const checksum = createHash('sha256').update(header.subarray(0, OFFSET.checksum)).digest();
    if (!checksum.equals(header.subarray(OFFSET.checksum))) {
      throw new SyntheticOsImageError('synthetic OS image header fails its checksum');
    }
    if (header.readUInt32BE(OFFSET.version) !== VERSION)
      throw new SyntheticOsImageError('unknown header version');
    const size = Number(header.readBigUInt64BE(OFFSET.size));
    const label = header.toString('utf8', OFFSET.label, OFFSET.label + 64).replace(/\0+$/, '');
    return new SyntheticOsImage(size, Buffer.from(header.subarray(OFFSET.seed, OFFSET.seed + 32)), label);
  }

  /** The image's bytes in [offset, offset + length), clipped to its size. */
  bytesAt(offset: number, length: number): Buffer {
    const end = Math.min(this.size, offset + length);
    if (offset < 0 || end <= offset) return Buffer.alloc(0);
    const out = keystream(this.key, offset, end - offset);
    if (offset < SYNTHETIC_OS_HEADER_SIZE) {
      this.header.copy(out, 0, offset, Math.min(SYNTHETIC_OS_HEADER_SIZE, end));
    }
    return out;
  }

  read(offset: number, length: number): Promise<Buffer> {
    return Promise.resolve(this.bytesAt(offset, length));
  }

  /** Whether `bytes` are exactly the image's bytes at `offset` (and lie inside the image). */
  verifyRange(offset: number, bytes: Uint8Array): boolean {
    return this.firstMismatch(offset, bytes) === -1;
  }

  /** Offset (absolute) of the first byte that differs, or -1 when all match. */
  firstMismatch(offset: number, bytes: Uint8Array): number {
    if (!Number.isSafeInteger(offset) || offset < 0) return 0;
    const inside = Math.max(0, Math.min(bytes.length, this.size - offset));
    const expected = this.bytesAt(offset, inside);
    const given = Buffer.from(bytes.buffer, bytes.byteOffset, inside);
    if (!given.equals(expected)) {
      for (let i = 0; i < inside; i++) if (given[i] !== expected[i]) return offset + i;
    }
    return inside < bytes.length ? offset + inside : -1;
  }

  /** A verifier for the image streamed from offset 0 in chunks of any size. */
  createVerifier(): StreamingVerifier {
    return new StreamingVerifier(this);
  }

  /** The whole image as a stream (what the IPSW builder writes), generated chunk by chunk. */
  stream(chunkSize = GENERATE_CHUNK): Readable {
    const size = this.size;
    const bytesAt = (offset: number): Buffer => this.bytesAt(offset, chunkSize);
    return Readable.from(
      (function* generate() {
        for (let offset = 0; offset < size; offset += chunkSize) yield bytesAt(offset);
      })(),
      { objectMode: false },
    );
  }
}

/** Checks a stream of the image against the keystream as it arrives. */
export class StreamingVerifier {
  private received = 0;
  private excess = 0;
  private mismatchAt?: number;

  constructor(private readonly image: SyntheticOsImage) {}

  update(chunk: Uint8Array): void {
    const offset = this.received;
    this.received += chunk.length;
    this.excess = Math.max(0, this.received - this.image.size);
    if (this.mismatchAt !== undefined) return;
    const at = this.image.firstMismatch(offset, chunk);
    if (at !== -1) this.mismatchAt = at;
  }

  result(): StreamVerification {
    const ok = this.mismatchAt === undefined && this.excess === 0;
    return {
      ok,
      complete: ok && this.received === this.image.size,
      received: this.received,
      size: this.image.size,
      mismatchAt: this.mismatchAt,
      excess: this.excess,
    };
  }
}

function keystream(key: Buffer, offset: number, length: number): Buffer {
  const skip = offset % BLOCK;
  const iv = Buffer.alloc(BLOCK);
  iv.writeBigUInt64BE(BigInt(Math.floor(offset / BLOCK)), 8);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const out = cipher.update(Buffer.alloc(skip + length));
  return skip === 0 ? out : out.subarray(skip);
}

function encodeHeader(size: number, seed: Buffer, label: string): Buffer {
  const header = Buffer.alloc(SYNTHETIC_OS_HEADER_SIZE);
  header.write(SYNTHETIC_OS_MAGIC, OFFSET.magic, 'latin1');
  header.writeUInt32BE(VERSION, OFFSET.version);
  header.writeBigUInt64BE(BigInt(size), OFFSET.size);
  seed.copy(header, OFFSET.seed, 0, 32);
  Buffer.from(label, 'utf8').subarray(0, 64).copy(header, OFFSET.label);
  createHash('sha256').update(header.subarray(0, OFFSET.checksum)).digest().copy(header, OFFSET.checksum);
  return header;
}
