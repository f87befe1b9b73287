// RandomAccessSource over a region of an open file: the data of a stored zip member (IPSWs store
// their big images uncompressed) or a whole extracted file. Reads go straight to the file at an
// absolute position; nothing is buffered beyond the bytes asked for.
import type { FileHandle } from 'node:fs/promises';
import type { RandomAccessSource } from '@bench/bench-domain';

export class FileRegionSource implements RandomAccessSource {
  constructor(
    private readonly handle: FileHandle,
    private readonly start: number,
    readonly size: number,
    private readonly label: string,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`${this.label}: invalid read of ${length} bytes at ${offset}`);
    }
    if (offset > this.size)
      throw new RangeError(`${this.label}: offset ${offset} is past the end (${this.size})`);
    const wanted = Math.min(length, this.size - offset);
    const out = Buffer.allocUnsafe(wanted);
    await this.fill(offset, out);
    return out;
  }

  async readInto(offset: number, target: Buffer): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.size) {
      throw new RangeError(`${this.label}: invalid read at ${offset}`);
    }
    const wanted = Math.min(target.length, this.size - offset);
    await this.fill(offset, target.subarray(0, wanted));
    return wanted;
  }

  private async fill(offset: number, out: Buffer): Promise<void> {
    const wanted = out.length;
    let done = 0;
    while (done < wanted) {
      const { bytesRead } = await this.handle.read(out, done, wanted - done, this.start + offset + done);
      if (bytesRead === 0)
        throw new RangeError(`${this.label}: file ends ${wanted - done} bytes early at ${offset + done}`);
      done += bytesRead;
    }
  }
}
