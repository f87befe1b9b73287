// Pull-style reads from a raw device-port stream (ASR, FDR), with backpressure: the stream is
// paused while more than `highWaterMark` bytes wait unread, so a slow reader (a throttled link,
// a hung phone) slows the host's writes the way a real USB pipe does.
import type { Duplex } from 'node:stream';

export class StreamClosedError extends Error {
  constructor(what: string) {
    super(`${what}: the host closed the connection`);
    this.name = 'StreamClosedError';
  }
}

interface PendingRead {
  satisfied(): boolean;
  resolve(): void;
  reject(error: Error): void;
}

export class StreamReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private pending?: PendingRead;
  private closedError?: Error;

  constructor(
    private readonly channel: Duplex,
    private readonly what: string,
    private readonly highWaterMark = 512 * 1024,
  ) {
    channel.on('data', (chunk: Buffer) => this.onData(chunk));
    channel.on('end', () => this.onClose(new StreamClosedError(what)));
    channel.on('close', () => this.onClose(new StreamClosedError(what)));
    channel.on('error', (error: Error) => this.onClose(error));
  }

  get buffered(): number {
    return this.length;
  }

  /** Exactly `n` bytes; rejects if the stream ends first or `signal` aborts. */
  async readExactly(n: number, signal?: AbortSignal): Promise<Buffer> {
    await this.waitFor(() => this.length >= n, signal);
    return this.take(n);
  }

  /** Bytes up to and including `delimiter`, refusing to hold more than `maxBytes`. */
  async readThrough(delimiter: Buffer, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    let end = -1;
    await this.waitFor(() => {
      end = this.indexOf(delimiter);
      if (end < 0 && this.length > maxBytes) {
        throw new Error(`${this.what}: no ${JSON.stringify(delimiter.toString())} in ${maxBytes} bytes`);
      }
      return end >= 0;
    }, signal);
    return this.take(end + delimiter.length);
  }

  /**
   * Drops leading buffered bytes matching `predicate` (only what has already arrived), e.g. the
   * newline a host writes after a delimited message, before raw data follows.
   */
  discardBuffered(predicate: (byte: number) => boolean): void {
    while (this.chunks.length > 0) {
      const chunk = this.chunks[0];
      let i = 0;
      while (i < chunk.length && predicate(chunk[i])) i++;
      this.length -= i;
      if (i < chunk.length) {
        this.chunks[0] = chunk.subarray(i);
        return;
      }
      this.chunks.shift();
    }
  }

  private indexOf(delimiter: Buffer): number {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks.length === 0 ? -1 : this.chunks[0].indexOf(delimiter);
  }

  private waitFor(ready: () => boolean, signal?: AbortSignal): Promise<void> {
    if (this.pending) return Promise.reject(new Error(`${this.what}: overlapping reads`));
    if (ready()) return Promise.resolve();
    if (this.closedError) return Promise.reject(this.closedError);
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.channel.resume();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => finish(() => reject(signal?.reason));
      const finish = (settle: () => void) => {
        this.pending = undefined;
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending = {
        satisfied: ready,
        resolve: () => finish(resolve),
        reject: (error) => finish(() => reject(error)),
      };
    });
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length > this.highWaterMark) this.channel.pause();
    this.check();
  }

  private check(): void {
    const pending = this.pending;
    if (!pending) return;
    try {
      if (pending.satisfied()) pending.resolve();
    } catch (error) {
      pending.reject(error as Error);
    }
  }

  private onClose(error: Error): void {
    if (this.closedError) return;
    this.closedError = error;
    const pending = this.pending;
    if (!pending) return;
    try {
      if (pending.satisfied()) return pending.resolve();
    } catch (checkError) {
      return pending.reject(checkError as Error);
    }
    pending.reject(error);
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    let out: Buffer;
    if (this.chunks[0].length >= n) {
      out = this.chunks[0].subarray(0, n);
      this.chunks[0] = this.chunks[0].subarray(n);
      if (this.chunks[0].length === 0) this.chunks.shift();
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[0];
        const used = Math.min(chunk.length, n - filled);
        chunk.copy(out, filled, 0, used);
        filled += used;
        if (used === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(used);
      }
    }
    this.length -= n;
    if (this.length <= this.highWaterMark && !this.closedError) this.channel.resume();
    return out;
  }
}
