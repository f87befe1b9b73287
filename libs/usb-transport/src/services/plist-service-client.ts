// The plist service transport shared by lockdownd, restored and the diagnostics relay: 4-byte
// big-endian length + plist, XML out, XML or binary in, receive timeouts, bounded frames, and an
// in-place upgrade to TLS (lockdown sessions, SSL services).
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { CancelledError } from '@bench/bench-domain';
import {
  decodePlistDict,
  encodeBigEndianLengthPrefixed,
  encodePlistXml,
  FrameDecoder,
  framePayload,
  plistServiceFormat,
  ProtocolError,
  type PlistDict,
} from '@bench/protocols';
import { DeviceServiceError } from './service-errors';

export interface PlistServiceClientOptions {
  /** Names the service in errors (lockdownd, restored, …). */
  service?: string;
  /** Default receive timeout; 0 waits forever. */
  receiveTimeoutMs?: number;
  /** Device messages above this are refused before they are buffered. */
  maxFrameBytes?: number;
}

export interface ReceiveOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Waiter {
  resolve(message: PlistDict): void;
  reject(error: Error): void;
}

const EMPTY = Buffer.alloc(0);
/** Decoded messages held before we stop reading from the socket. */
const QUEUE_HIGH_WATER = 64;

export class PlistServiceClient {
  readonly service: string;
  private current: Duplex;
  private readonly decoder: FrameDecoder;
  private readonly queue: PlistDict[] = [];
  private readonly waiters: Waiter[] = [];
  private failure?: DeviceServiceError;
  private readonly receiveTimeoutMs: number;
  private readingPaused = false;

  constructor(channel: Duplex, options: PlistServiceClientOptions = {}) {
    this.service = options.service ?? 'plist service';
    this.receiveTimeoutMs = options.receiveTimeoutMs ?? 30_000;
    this.decoder = new FrameDecoder(plistServiceFormat(options.maxFrameBytes ?? 32 * 1024 * 1024));
    this.current = channel;
    this.attach(channel);
    if (channel.destroyed) this.fail(this.error('closed', 'connection is already closed'));
  }

  /** The stream in use now (a TLSSocket after startTls). */
  get channel(): Duplex {
    return this.current;
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Writes one message (XML) and resolves once the socket accepted it, so large replies respect backpressure. */
  send(message: PlistDict): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const frame = encodeBigEndianLengthPrefixed(encodePlistXml(message));
    return new Promise((resolve, reject) => {
      this.current.write(frame, (error) => {
        if (error) reject(this.failure ?? this.error('closed', `write failed: ${error.message}`, error));
        else resolve();
      });
    });
  }

  /** The next message from the device, in order. */
  receive(options: ReceiveOptions = {}): Promise<PlistDict> {
    const queued = this.queue.shift();
    if (queued) {
      this.resumeIfDrained();
      return Promise.resolve(queued);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (options.signal?.aborted)
      return Promise.reject(new CancelledError(`${this.service}: receive cancelled`));
    const timeoutMs = options.timeoutMs ?? this.receiveTimeoutMs;
    return new Promise<PlistDict>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
      };
      const waiter: Waiter = {
        resolve: (message) => {
          cleanup();
          resolve(message);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(new CancelledError(`${this.service}: receive cancelled`));
      const timer =
        timeoutMs > 0
          ? setTimeout(
              () => waiter.reject(this.error('timeout', `no message within ${timeoutMs} ms`)),
              timeoutMs,
            )
          : undefined;
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  async request(message: PlistDict, options: ReceiveOptions = {}): Promise<PlistDict> {
    await this.send(message);
    return this.receive(options);
  }

  /**
   * Replaces the plain socket with a TLS client socket over it (lockdown StartSession with
   * EnableSessionSSL, or an SSL service). TLS starts with our ClientHello, so the device has
   * nothing in flight; bytes already buffered would be a protocol error.
   */
  async startTls(options: tls.ConnectionOptions, timeoutMs = 15_000): Promise<tls.TLSSocket> {
    if (this.failure) throw this.failure;
    const plain = this.current;
    plain.pause();
    this.detach(plain);
    const early = this.decoder.takeRemaining();
    if (early.length > 0 || this.queue.length > 0) {
      this.fail(this.error('malformed', 'device sent data before the TLS handshake'));
      throw this.failure;
    }
    const secure = tls.connect({ ...options, socket: plain });
    try {
      await handshake(secure, timeoutMs);
    } catch (error) {
      secure.destroy();
      plain.destroy();
      const message = error instanceof Error ? error.message : String(error);
      this.fail(this.error('tls', `TLS handshake failed: ${message}`, error));
      throw this.failure;
    }
    this.current = secure;
    this.attach(secure);
    return secure;
  }

  /** Ends the connection; pending receives fail with 'closed'. */
  close(): void {
    if (!this.failure) this.fail(this.error('closed', 'connection closed by us'));
  }

  private attach(channel: Duplex): void {
    channel.on('data', this.onData);
    channel.on('end', this.onEnd);
    channel.on('close', this.onEnd);
    channel.on('error', this.onError);
    // usbmux hands connected sockets over paused
    channel.resume();
  }

  private detach(channel: Duplex): void {
    channel.off('data', this.onData);
    channel.off('end', this.onEnd);
    channel.off('close', this.onEnd);
    channel.off('error', this.onError);
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      // One at a time, so a TLS upgrade requested by a reply can take over the rest.
      for (
        let frames = this.decoder.push(chunk, 1);
        frames.length > 0;
        frames = this.decoder.push(EMPTY, 1)
      ) {
        this.deliver(decodePlistDict(framePayload(frames[0])));
        if (this.failure) return;
      }
    } catch (error) {
      const detail = error instanceof ProtocolError ? error.message : String(error);
      this.fail(this.error('malformed', `undecodable message: ${detail}`, error));
    }
  };

  private deliver(message: PlistDict): void {
    const waiter = this.waiters.shift();
    if (waiter) return waiter.resolve(message);
    this.queue.push(message);
    if (this.queue.length >= QUEUE_HIGH_WATER && !this.readingPaused) {
      this.readingPaused = true;
      this.current.pause();
    }
  }

  private resumeIfDrained(): void {
    if (this.readingPaused && this.queue.length < QUEUE_HIGH_WATER / 2) {
      this.readingPaused = false;
      this.current.resume();
    }
  }

  private readonly onEnd = (): void => {
    this.fail(this.error('closed', 'the device closed the connection'));
  };

  private readonly onError = (error: Error): void => {
    this.fail(this.error('closed', `connection failed: ${error.message}`, error));
  };

  private fail(error: DeviceServiceError): void {
    if (this.failure) return;
    this.failure = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.detach(this.current);
    this.current.on('error', () => undefined);
    this.current.destroy();
  }

  private error(kind: DeviceServiceError['kind'], message: string, cause?: unknown): DeviceServiceError {
    return new DeviceServiceError(
      kind,
      this.service,
      message,
      {},
      cause === undefined ? undefined : { cause },
    );
  }
}

function handshake(socket: tls.TLSSocket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off('secureConnect', onSecure);
      socket.off('error', done);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onSecure = () => done();
    const onClose = () => done(new Error('connection closed during the handshake'));
    const timer = setTimeout(() => done(new Error(`no handshake within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', onSecure);
    socket.once('error', done);
    socket.once('close', onClose);
  });
}
