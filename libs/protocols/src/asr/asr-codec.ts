// ASR (Apple Software Restore; device port 12345 by default): the filesystem image stream.
// Control messages are raw XML plists with NO length prefix, each sent in one write and under
// 64 KiB (idevicerestore-1.0.0 notes §3; restore-protocol.md §4). Data (OOB answers, the payload)
// is raw bytes.
import { FrameTooLargeError, ProtocolError } from '../errors';
import { optionalBoolean, optionalInteger, optionalString } from '../plist/fields';
import { decodePlistDict, isPlistDict, type PlistDict } from '../plist/plist';

export const ASR_PORT = 12345;
export const ASR_CHUNK_SIZE = 0x20000;
export const ASR_CHECKSUM_LENGTH = 20;
/** libimobiledevice reads each ASR plist with one recv of at most 64 KiB. */
export const ASR_MAX_PLIST_BYTES = 64 * 1024;

export type AsrCommand =
  | { command: 'Initiate'; checksumChunks: boolean; raw: PlistDict }
  | { command: 'OOBData'; offset: number; length: number; raw: PlistDict }
  | { command: 'Payload'; raw: PlistDict }
  /** idevicerestore accepts a first message without Command as Initiate. */
  | { command: 'missing'; checksumChunks: boolean; raw: PlistDict }
  | { command: 'unknown'; name: string; raw: PlistDict };

export function decodeAsrCommand(dict: PlistDict): AsrCommand {
  const name = optionalString(dict, 'Command');
  switch (name) {
    case undefined:
      return {
        command: 'missing',
        checksumChunks: optionalBoolean(dict, 'Checksum Chunks') ?? false,
        raw: dict,
      };
    case 'Initiate':
      return {
        command: 'Initiate',
        checksumChunks: optionalBoolean(dict, 'Checksum Chunks') ?? false,
        raw: dict,
      };
    case 'OOBData': {
      const offset = optionalInteger(dict, 'OOB Offset');
      const length = optionalInteger(dict, 'OOB Length');
      if (offset === undefined || length === undefined || offset < 0 || length < 0) {
        throw new ProtocolError('OOBData needs non-negative integers OOB Offset and OOB Length', 'OOBData');
      }
      return { command: 'OOBData', offset, length, raw: dict };
    }
    case 'Payload':
      return { command: 'Payload', raw: dict };
    default:
      return { command: 'unknown', name, raw: dict };
  }
}

/** The packet-info plist the host sends after every Initiate. */
export function asrPacketInfo(payloadSize: number, checksumChunks: boolean): PlistDict {
  if (!Number.isSafeInteger(payloadSize) || payloadSize < 0)
    throw new RangeError(`bad payload size ${payloadSize}`);
  const info: PlistDict = {
    'FEC Slice Stride': 40,
    'Packet Payload Size': 1450,
    'Packets Per FEC': 25,
    Payload: { Port: 1, Size: payloadSize },
    'Stream ID': 1,
    Version: 1,
  };
  if (checksumChunks) info['Checksum Chunk Size'] = ASR_CHUNK_SIZE;
  return info;
}

export interface AsrPacketInfo {
  payloadSize: number;
  checksumChunkSize?: number;
}

export function decodeAsrPacketInfo(dict: PlistDict): AsrPacketInfo {
  const payload = dict.Payload;
  const size = isPlistDict(payload) ? optionalInteger(payload, 'Size') : undefined;
  if (size === undefined || size < 0)
    throw new ProtocolError('ASR packet info lacks Payload.Size', 'Payload.Size');
  return { payloadSize: size, checksumChunkSize: optionalInteger(dict, 'Checksum Chunk Size') };
}

export const asrDeviceMessages = {
  initiate: (checksumChunks: boolean): PlistDict => ({
    Command: 'Initiate',
    'Checksum Chunks': checksumChunks,
  }),
  oobData: (offset: number, length: number): PlistDict => ({
    Command: 'OOBData',
    'OOB Offset': offset,
    'OOB Length': length,
  }),
  payload: (): PlistDict => ({ Command: 'Payload' }),
};

/** Bytes on the wire for a payload of `size`: each chunk is followed by its SHA-1 when checksums are on. */
export function asrWireLength(size: number, checksumChunks: boolean): number {
  return checksumChunks ? size + ASR_CHECKSUM_LENGTH * asrChecksumCount(size) : size;
}

/** ceil(size / 0x20000), and one for an empty payload (its SHA-1 is still sent). */
export function asrChecksumCount(size: number): number {
  return Math.max(1, Math.ceil(size / ASR_CHUNK_SIZE));
}

export interface AsrChunk {
  index: number;
  offset: number;
  length: number;
}

/** The chunks of the payload in order (an empty payload has one empty chunk). */
export function* asrChunks(size: number, chunkSize = ASR_CHUNK_SIZE): Generator<AsrChunk> {
  const count = Math.max(1, Math.ceil(size / chunkSize));
  for (let index = 0; index < count; index++) {
    const offset = index * chunkSize;
    yield { index, offset, length: Math.min(chunkSize, size - offset) };
  }
}

const PLIST_END = Buffer.from('</plist>', 'latin1');
const XML_OPEN = 0x3c; // '<'
const UTF8_BOM_FIRST = 0xef;

/**
 * Splits a byte stream of back-to-back XML plists (no length prefix) at each `</plist>`. Bounded:
 * more than `maxBytes` without a complete plist is refused, so a peer cannot make us buffer
 * without limit. Not a length splitter: ASR has no lengths, only the closing tag.
 */
export class AsrPlistDecoder {
  private buffer = Buffer.alloc(0);
  private scanFrom = 0;

  constructor(readonly maxBytes = ASR_MAX_PLIST_BYTES) {}

  get buffered(): number {
    return this.buffer.length;
  }

  push(chunk: Uint8Array): PlistDict[] {
    if (chunk.length > 0) {
      this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    }
    const out: PlistDict[] = [];
    for (;;) {
      this.skipLeadingWhitespace();
      // Every ASR message is an XML plist: bytes that cannot start one are refused now, rather
      // than buffered until a command timeout hides what the device really sent. Right after a
      // plist they are left for takeRemaining(): the device side switches to raw data there.
      if (this.buffer.length > 0 && this.buffer[0] !== XML_OPEN && this.buffer[0] !== UTF8_BOM_FIRST) {
        if (out.length > 0) return out;
        const start = JSON.stringify(this.buffer.subarray(0, 16).toString('latin1'));
        throw new ProtocolError(`ASR message is not an XML plist (it starts with ${start})`, 'ASR plist');
      }
      const end = this.buffer.indexOf(PLIST_END, Math.max(0, this.scanFrom - PLIST_END.length + 1));
      if (end < 0) {
        this.scanFrom = this.buffer.length;
        if (this.buffer.length > this.maxBytes) {
          throw new FrameTooLargeError(this.buffer.length, this.maxBytes, 'ASR plist (no </plist> yet)');
        }
        return out;
      }
      const length = end + PLIST_END.length;
      if (length > this.maxBytes) throw new FrameTooLargeError(length, this.maxBytes, 'ASR plist');
      const bytes = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
      this.scanFrom = 0;
      out.push(decodePlistDict(bytes, { maxBytes: this.maxBytes }));
    }
  }

  /** Hands over undecoded bytes (the device side switches to raw data after packet info). */
  takeRemaining(): Buffer {
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    this.scanFrom = 0;
    return rest;
  }

  private skipLeadingWhitespace(): void {
    let i = 0;
    while (i < this.buffer.length && isXmlSpace(this.buffer[i])) i++;
    if (i > 0) {
      this.buffer = this.buffer.subarray(i);
      this.scanFrom = Math.max(0, this.scanFrom - i);
    }
  }
}

function isXmlSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0x00;
}
