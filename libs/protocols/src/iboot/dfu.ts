// DFU uploads to SecureROM (restore-protocol.md §2.3): 0x800-byte DNLOAD blocks, a 16-byte
// trailer (the standard DFU file suffix and libirecovery's CRC-32) on the last block, and the
// 6-byte GETSTATUS reply.
import { ProtocolError } from '../errors';

export const DFU_BLOCK_SIZE = 0x800;
/** bcdDevice 0xFFFF, idProduct 0xFFFF, idVendor 0x05AC, bcdDFU 0x0100, "UFD", bLength 16. */
export const DFU_SUFFIX: Readonly<Uint8Array> = Uint8Array.of(
  0xff,
  0xff,
  0xff,
  0xff,
  0xac,
  0x05,
  0x00,
  0x01,
  0x55,
  0x46,
  0x44,
  0x10,
);
export const DFU_TRAILER_LENGTH = 16;

// Written out rather than taken from zlib: libirecovery's CRC is the reflected CRC-32 register
// *without* the final XOR, and zlib.crc32 (Node ≥ 20.15 only) applies it.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export const DFU_CRC_INITIAL = 0xffffffff;

/** libirecovery's DFU CRC: reflected poly 0xEDB88320, init 0xFFFFFFFF, no final XOR; chainable. */
export function dfuCrc32(data: Uint8Array, crc = DFU_CRC_INITIAL): number {
  let c = crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

/** The 16 bytes appended to the image: the suffix and the CRC over image + suffix, little-endian. */
export function dfuTrailer(image: Uint8Array): Buffer {
  const crc = dfuCrc32(DFU_SUFFIX, dfuCrc32(image));
  const trailer = Buffer.alloc(DFU_TRAILER_LENGTH);
  trailer.set(DFU_SUFFIX, 0);
  trailer.writeUInt32LE(crc, 12);
  return trailer;
}

export interface DfuBlock {
  /** wValue of the DNLOAD: the block index (the split-off trailer repeats the last index). */
  wValue: number;
  data: Uint8Array;
  /** Image bytes this block carries (the trailer is not counted). */
  imageBytes: number;
}

export interface DfuUploadPlan {
  blocks: DfuBlock[];
  /** Data blocks of the image; the finishing zero-length DNLOAD carries this as wValue. */
  blockCount: number;
}

export interface DfuPlanOptions {
  blockSize?: number;
  /** Append the suffix + CRC trailer (libirecovery does unless the small-packet option is used). */
  trailer?: boolean;
}

/**
 * The DNLOAD sequence for an image. When the last block has no room for the 16-byte trailer it
 * is sent alone and the trailer follows in one more DNLOAD with the same wValue (libirecovery).
 */
export function planDfuUpload(image: Uint8Array, options: DfuPlanOptions = {}): DfuUploadPlan {
  const blockSize = options.blockSize ?? DFU_BLOCK_SIZE;
  if (image.length === 0) throw new RangeError('a DFU upload needs at least one byte');
  if (!Number.isInteger(blockSize) || blockSize < DFU_TRAILER_LENGTH) {
    throw new RangeError(`DFU block size ${blockSize} is too small`);
  }
  const blockCount = Math.ceil(image.length / blockSize);
  const blocks: DfuBlock[] = [];
  for (let i = 0; i < blockCount; i++) {
    const data = image.subarray(i * blockSize, Math.min(image.length, (i + 1) * blockSize));
    blocks.push({ wValue: i, data, imageBytes: data.length });
  }
  if (options.trailer === false) return { blocks, blockCount };
  const last = blocks[blocks.length - 1];
  const trailer = dfuTrailer(image);
  if (last.data.length + DFU_TRAILER_LENGTH > blockSize) {
    blocks.push({ wValue: last.wValue, data: trailer, imageBytes: 0 });
  } else {
    last.data = Buffer.concat([last.data, trailer]);
  }
  return { blocks, blockCount };
}

export interface DfuTrailerCheck {
  /** Whether the received bytes end in the DFU suffix (a small-packet upload has none). */
  hasTrailer: boolean;
  /** The CRC matches libirecovery's definition (true when there is no trailer to check). */
  crcOk: boolean;
  /** The image without its trailer. */
  image: Uint8Array;
}

/** The device side: split a received upload into image and trailer and check the CRC. */
export function checkDfuTrailer(received: Uint8Array): DfuTrailerCheck {
  if (received.length < DFU_TRAILER_LENGTH) return { hasTrailer: false, crcOk: true, image: received };
  const suffixAt = received.length - DFU_TRAILER_LENGTH;
  const suffix = received.subarray(suffixAt, suffixAt + DFU_SUFFIX.length);
  if (!suffix.every((byte, i) => byte === DFU_SUFFIX[i])) {
    return { hasTrailer: false, crcOk: true, image: received };
  }
  const image = received.subarray(0, suffixAt);
  const sent = Buffer.from(received.buffer, received.byteOffset, received.length).readUInt32LE(
    received.length - 4,
  );
  return { hasTrailer: true, crcOk: sent === dfuCrc32(DFU_SUFFIX, dfuCrc32(image)), image };
}

/** DFU 1.1 bState values. */
export const DfuState = {
  appIdle: 0,
  appDetach: 1,
  dfuIdle: 2,
  dnloadSync: 3,
  dnBusy: 4,
  dnloadIdle: 5,
  manifestSync: 6,
  manifest: 7,
  manifestWaitReset: 8,
  uploadIdle: 9,
  error: 10,
} as const;
export type DfuStateValue = (typeof DfuState)[keyof typeof DfuState];

/** DFU 1.1 bStatus values. */
export const DfuStatusCode = {
  ok: 0x00,
  errTarget: 0x01,
  errFile: 0x02,
  errWrite: 0x03,
  errErase: 0x04,
  errCheckErased: 0x05,
  errProg: 0x06,
  errVerify: 0x07,
  errAddress: 0x08,
  errNotDone: 0x09,
  errFirmware: 0x0a,
  errVendor: 0x0b,
  errUsbReset: 0x0c,
  errPowerOnReset: 0x0d,
  errUnknown: 0x0e,
  errStalledPacket: 0x0f,
} as const;

const STATE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DfuState).map(([name, value]) => [value, name]),
);

export function dfuStateName(state: number): string {
  return STATE_NAMES[state] ?? `state ${state}`;
}

export const DFU_STATUS_LENGTH = 6;

export interface DfuStatus {
  status: number;
  /** bwPollTimeout: how long the host should wait before the next GETSTATUS (24-bit, ms). */
  pollTimeoutMs: number;
  state: number;
  stringIndex: number;
}

export function decodeDfuStatus(bytes: Uint8Array): DfuStatus {
  if (bytes.length < DFU_STATUS_LENGTH) {
    throw new ProtocolError(`DFU GETSTATUS reply of ${bytes.length} bytes (need 6)`, 'DFU status');
  }
  return {
    status: bytes[0],
    pollTimeoutMs: bytes[1] | (bytes[2] << 8) | (bytes[3] << 16),
    state: bytes[4],
    stringIndex: bytes[5],
  };
}

export function encodeDfuStatus(status: DfuStatus): Buffer {
  const out = Buffer.alloc(DFU_STATUS_LENGTH);
  out[0] = status.status;
  out.writeUIntLE(status.pollTimeoutMs & 0xffffff, 1, 3);
  out[4] = status.state;
  out[5] = status.stringIndex;
  return out;
}
