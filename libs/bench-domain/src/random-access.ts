/**
 * Bytes that can be read at any offset without holding them all: a stored member of an IPSW
 * zip, a file, a synthetic image. ASR's OOBData requests and the filesystem stream read from it.
 */
export interface RandomAccessSource {
  readonly size: number;
  /** Reads exactly `length` bytes at `offset` (fewer only at the end of the source). */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Optional: fills `target` with the bytes at `offset` and resolves with the count (fewer only
   * at the end). Streaming readers reuse their buffers through it instead of allocating per read.
   */
  readInto?(offset: number, target: Buffer): Promise<number>;
}
