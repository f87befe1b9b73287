// One generic length-prefixed frame splitter for every framed protocol we speak (usbmux: 16-byte
// little-endian header whose first field is the whole length; plist services: 4-byte big-endian
// payload length; FDR: 4-byte little-endian). Pure: bytes in, frames out, no sockets.
import { FrameTooLargeError, ProtocolError } from '../errors';

export interface FrameFormat {
  /** Names the protocol in errors. */
  name: string;
  /** Bytes needed before the frame length is known. */
  headerLength: number;
  /** Total frame length (header included), read from the first `headerLength` bytes. */
  frameLength(header: Buffer): number;
  /** Frames announcing more than this are refused before any buffer is allocated for them. */
  maxFrameLength: number;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(readonly format: FrameFormat) {}

  /** Bytes held that do not yet make a whole frame. */
  get buffered(): number {
    return this.length;
  }

  /**
   * Adds bytes and returns the frames completed by them (each with its header), at most
   * `maxFrames`: a protocol that stops being framed after some frame (usbmux Connect) takes one
   * at a time and hands the rest over with takeRemaining().
   */
  push(chunk: Uint8Array, maxFrames = Number.POSITIVE_INFINITY): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.length += chunk.length;
    }
    const frames: Buffer[] = [];
    while (frames.length < maxFrames) {
      if (this.length < this.format.headerLength) break;
      const total = this.nextFrameLength();
      if (this.length < total) break;
      frames.push(this.take(total));
    }
    return frames;
  }

  /** Hands over what is buffered (e.g. after usbmux Connect turns the socket into a raw pipe). */
  takeRemaining(): Buffer {
    return this.take(this.length);
  }

  private nextFrameLength(): number {
    const header = this.peek(this.format.headerLength);
    const total = this.format.frameLength(header);
    const { name, headerLength, maxFrameLength } = this.format;
    if (!Number.isSafeInteger(total) || total < headerLength) {
      throw new ProtocolError(`${name} frame announces an impossible length (${total})`, `${name} frame`);
    }
    if (total > maxFrameLength) throw new FrameTooLargeError(total, maxFrameLength, `${name} frame`);
    return total;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const parts: Buffer[] = [];
    let need = n;
    for (const chunk of this.chunks) {
      parts.push(chunk.subarray(0, Math.min(need, chunk.length)));
      need -= parts[parts.length - 1].length;
      if (need === 0) break;
    }
    return Buffer.concat(parts, n);
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length >= n) {
      const frame = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.length -= n;
      return frame;
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.chunks[0];
      const used = Math.min(chunk.length, n - offset);
      chunk.copy(out, offset, 0, used);
      offset += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    this.length -= n;
    return out;
  }
}

/** 4-byte big-endian payload length + payload (lockdownd, restored, diagnostics relay…). */
export function plistServiceFormat(maxPayload = 64 * 1024 * 1024): FrameFormat {
  return {
    name: 'plist service',
    headerLength: 4,
    frameLength: (header) => 4 + header.readUInt32BE(0),
    maxFrameLength: 4 + maxPayload,
  };
}

/** 4-byte little-endian payload length + payload (FDR control channel). */
export function littleEndianLengthFormat(name: string, maxPayload = 1024 * 1024): FrameFormat {
  return {
    name,
    headerLength: 4,
    frameLength: (header) => 4 + header.readUInt32LE(0),
    maxFrameLength: 4 + maxPayload,
  };
}

export function encodeBigEndianLengthPrefixed(payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

export function encodeLittleEndianLengthPrefixed(payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32LE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** Strips the 4-byte length of a complete frame returned by FrameDecoder. */
export function framePayload(frame: Buffer, headerLength = 4): Buffer {
  return frame.subarray(headerLength);
}
