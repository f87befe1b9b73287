// One socket to usbmuxd speaking the plist protocol: requests matched to replies by tag, each
// with its own timeout; untagged Attached/Detached/Paired events passed to a sink; and, after a
// successful Connect, the hand-over of the socket (with any bytes already read) as a raw pipe.
import type { Duplex } from 'node:stream';
import {
  decodeUsbmuxPacket,
  encodeUsbmuxPlist,
  FrameDecoder,
  ProtocolError,
  resultNumber,
  usbmuxFormat,
  type PlistDict,
} from '@bench/protocols';
import { UsbmuxError } from './usbmux-errors';

interface PendingRequest {
  request: string;
  resolve(body: PlistDict): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** Connect: on Result 0 the socket stops being usbmux and is handed over. */
  handOverOnSuccess: boolean;
}

export interface UsbmuxEventSink {
  event(body: PlistDict): void;
  /** The connection ended; `error` unless we closed it ourselves. */
  end(error?: UsbmuxError): void;
}

export interface UsbmuxConnectionOptions {
  /** usbmuxd replies are small; a device list for a full bench stays far below this. */
  maxFrameBytes?: number;
}

const EMPTY = Buffer.alloc(0);

export class UsbmuxConnection {
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, PendingRequest>();
  private nextTag = 1;
  private state: 'open' | 'handed-over' | 'closed' = 'open';
  private failure?: UsbmuxError;
  private sink?: UsbmuxEventSink;

  constructor(
    readonly channel: Duplex,
    options: UsbmuxConnectionOptions = {},
  ) {
    this.decoder = new FrameDecoder(usbmuxFormat(options.maxFrameBytes ?? 4 * 1024 * 1024));
    channel.on('data', this.onData);
    channel.on('end', this.onEnd);
    channel.on('close', this.onEnd);
    channel.on('error', this.onError);
    if (channel.destroyed)
      this.fail(new UsbmuxError('connection-closed', 'usbmuxd socket is already closed', 'open'));
  }

  get isOpen(): boolean {
    return this.state === 'open' && !this.failure;
  }

  /** Sends one request and resolves with the reply carrying its tag. */
  request(body: PlistDict, timeoutMs: number): Promise<PlistDict> {
    return this.send(body, timeoutMs, false);
  }

  /**
   * Sends Connect and, on Result 0, resolves with the socket itself: no longer read by us, paused,
   * with bytes that arrived after the Result put back in front (a device that speaks first, such
   * as ASR, may already have sent some).
   */
  async connectPipe(body: PlistDict, timeoutMs: number): Promise<Duplex> {
    const reply = await this.send(body, timeoutMs, true);
    const number = resultNumber(reply);
    if (number !== 0) {
      this.close();
      throw UsbmuxError.result('Connect', number ?? -1);
    }
    return this.channel;
  }

  /** Routes untagged events to `sink` (after Listen). */
  subscribe(sink: UsbmuxEventSink): void {
    this.sink = sink;
    if (this.failure) sink.end(this.failure);
  }

  pause(): void {
    if (this.state === 'open') this.channel.pause();
  }

  resume(): void {
    if (this.state === 'open') this.channel.resume();
  }

  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closed';
    this.rejectAll(new UsbmuxError('connection-closed', 'usbmuxd connection closed', 'close'));
    this.detachListeners();
    this.destroyQuietly();
    this.sink?.end();
  }

  private send(body: PlistDict, timeoutMs: number, handOverOnSuccess: boolean): Promise<PlistDict> {
    const request = typeof body.MessageType === 'string' ? body.MessageType : 'request';
    if (this.failure) return Promise.reject(this.failure);
    if (this.state !== 'open') {
      return Promise.reject(new UsbmuxError('connection-closed', 'usbmuxd connection is closed', request));
    }
    const tag = this.nextTag++;
    return new Promise<PlistDict>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(tag);
        reject(
          new UsbmuxError('timeout', `usbmuxd did not answer ${request} within ${timeoutMs} ms`, request),
        );
        // A late reply would arrive on a socket whose purpose is lost (a Connect might succeed).
        if (handOverOnSuccess) this.close();
      }, timeoutMs);
      this.pending.set(tag, { request, resolve, reject, timer, handOverOnSuccess });
      this.channel.write(encodeUsbmuxPlist(tag, body));
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.state !== 'open') return;
    try {
      // One frame at a time: after a successful Connect the rest of the chunk is device bytes.
      for (
        let frames = this.decoder.push(chunk, 1);
        frames.length > 0;
        frames = this.decoder.push(EMPTY, 1)
      ) {
        this.handleFrame(frames[0]);
        if (this.state !== 'open') return;
      }
    } catch (error) {
      const cause = error instanceof ProtocolError ? error.message : String(error);
      this.fail(
        new UsbmuxError(
          'malformed',
          `usbmuxd sent a malformed packet: ${cause}`,
          'read',
          undefined,
          {},
          { cause: error },
        ),
      );
    }
  };

  private handleFrame(frame: Buffer): void {
    const { header, body } = decodeUsbmuxPacket(frame);
    const pending = this.pending.get(header.tag);
    if (pending) {
      this.pending.delete(header.tag);
      clearTimeout(pending.timer);
      if (pending.handOverOnSuccess && resultNumber(body) === 0) this.handOver();
      pending.resolve(body);
      return;
    }
    // Events carry tag 0; a reply whose request already timed out is dropped.
    if (this.sink && typeof body.MessageType === 'string' && body.MessageType !== 'Result')
      this.sink.event(body);
  }

  private handOver(): void {
    this.state = 'handed-over';
    this.channel.pause();
    this.detachListeners();
    const rest = this.decoder.takeRemaining();
    if (rest.length > 0) this.channel.unshift(rest);
    // Until the new owner listens, an error must not crash the process; the socket is then
    // destroyed and the owner sees that.
    const guard = () => undefined;
    this.channel.on('error', guard);
    setImmediate(() => this.channel.off('error', guard));
  }

  private readonly onEnd = (): void => {
    this.fail(new UsbmuxError('connection-closed', 'usbmuxd closed the connection', 'read'));
  };

  private readonly onError = (error: Error): void => {
    this.fail(
      new UsbmuxError(
        'connection-closed',
        `usbmuxd connection failed: ${error.message}`,
        'read',
        undefined,
        {},
        { cause: error },
      ),
    );
  };

  private fail(error: UsbmuxError): void {
    if (this.state !== 'open' || this.failure) return;
    this.failure = error;
    this.rejectAll(error);
    this.state = 'closed';
    this.detachListeners();
    this.destroyQuietly();
    this.sink?.end(error);
  }

  private rejectAll(error: UsbmuxError): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(
        new UsbmuxError(error.kind, error.message, pending.request, undefined, {}, { cause: error.cause }),
      );
    }
    this.pending.clear();
  }

  /** Some Duplex implementations emit an error when destroyed; nobody is listening any more. */
  destroyQuietly(): void {
    this.channel.on('error', () => undefined);
    this.channel.destroy();
  }

  private detachListeners(): void {
    this.channel.off('data', this.onData);
    this.channel.off('end', this.onEnd);
    this.channel.off('close', this.onEnd);
    this.channel.off('error', this.onError);
  }
}
