// Recovery-mode uploads (restore-protocol.md §2.2): after the 0x41 "prepare" request the image
// goes out on bulk endpoint 0x04 in 0x8000-byte chunks, with no per-chunk status; when the total
// is a multiple of 512 (the high-speed bulk packet size) a zero-length packet ends the transfer.

export const RECOVERY_CHUNK_SIZE = 0x8000;
export const BULK_PACKET_SIZE = 512;

export interface RecoveryUploadPlan {
  chunks: { offset: number; length: number }[];
  /** Send a zero-length packet after the last chunk. */
  zeroLengthPacket: boolean;
}

export function planRecoveryUpload(length: number, chunkSize = RECOVERY_CHUNK_SIZE): RecoveryUploadPlan {
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new RangeError(`a recovery upload needs at least one byte, got ${length}`);
  }
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`bad chunk size ${chunkSize}`);
  const chunks: RecoveryUploadPlan['chunks'] = [];
  for (let offset = 0; offset < length; offset += chunkSize) {
    chunks.push({ offset, length: Math.min(chunkSize, length - offset) });
  }
  return { chunks, zeroLengthPacket: length % BULK_PACKET_SIZE === 0 };
}
