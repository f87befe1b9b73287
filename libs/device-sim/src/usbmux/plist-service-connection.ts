// The device end of a plist service (lockdownd, restored, diagnostics relay): 4-byte big-endian
// length + plist, XML out, XML or binary in, handled one request at a time. Lockdown services
// can switch the same stream to TLS and back (see ../pairing/tls-upgrade.ts).
import type { Duplex } from 'node:stream';
import {
  FrameDecoder,
  decodePlistDict,
  encodeBigEndianLengthPrefixed,
  encodePlistXml,
  framePayload,
  plistServiceFormat,
  ProtocolError,
  type FrameFormat,
  type PlistDict,
} from '@bench/protocols';
import { TlsServerSession, type TlsServerOptions } from '../pairing/tls-upgrade';

export type PlistRequestHandler = (request: PlistDict) => Promise<void> | void;

/**
 * TLS records (type 0x14–0x17, version 3.x, big-endian length at offset 3), used only to skip the
 * host's close_notify after StopSession. A header that is not a TLS record gets length 0, which
 * the decoder refuses: that is where the plain-text plist frames start again.
 */
const TLS_RECORD_FORMAT: FrameFormat = {
  name: 'TLS record',
  headerLength: 5,
  frameLength: (header) =>
    header[0] >= 0x14 && header[0] <= 0x17 && header[1] === 0x03 ? 5 + header.readUInt16BE(3) : 0,
  maxFrameLength: 5 + 18_432,
};

export interface PlistServiceConnectionOptions {
  /** Names the service in errors. */
  name: string;
  /** Largest plist accepted (default 32 MiB: restored requests never come close). */
  maxPayload?: number;
  /** Called with the reason when the connection ends (host closed, malformed input, TLS failure). */
  onClose?: (reason: Error | undefined) => void;
  /**
   * The reply to input that is not a request: a frame over `maxPayload`, a plist that does not
   * parse or is not a dict, or whatever the handler hands to `refuse`. It is sent (in TLS when
   * the session is), then the connection closes. Without it such input just closes the connection.
   */
  malformedReply?: (reason: Error) => PlistDict;
}

export class PlistServiceConnection {
  private mode: 'plain' | 'tls' | 'after-tls' = 'plain';
  private plainFrames: FrameDecoder;
  private tlsFrames?: FrameDecoder;
  private tlsRecords?: FrameDecoder;
  private tls?: TlsServerSession;
  private readonly queue: Buffer[] = [];
  private pumping = false;
  private handler?: PlistRequestHandler;
  private ended = false;
  /** A refusal is being sent: nothing more is read or handled. */
  private refusing = false;
  private readonly maxPayload: number;

  constructor(
    readonly channel: Duplex,
    private readonly options: PlistServiceConnectionOptions,
  ) {
    this.maxPayload = options.maxPayload ?? 32 * 1024 * 1024;
    this.plainFrames = new FrameDecoder(plistServiceFormat(this.maxPayload));
    channel.on('data', (chunk: Buffer) => this.onRaw(chunk));
    channel.on('end', () => this.finish(undefined));
    channel.on('close', () => this.finish(undefined));
    channel.on('error', (error: Error) => this.finish(error));
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Starts delivering requests, one at a time: the next is read only after `handler` settles. */
  start(handler: PlistRequestHandler): void {
    this.handler = handler;
    void this.pump();
  }

  async send(body: PlistDict): Promise<void> {
    if (this.ended || this.refusing) return;
    return this.write(body);
  }

  private async write(body: PlistDict): Promise<void> {
    const frame = encodeBigEndianLengthPrefixed(encodePlistXml(body));
    if (this.mode === 'tls' && this.tls) return this.tls.write(frame);
    await new Promise<void>((resolve) => this.channel.write(frame, () => resolve()));
  }

  /**
   * Sends `reply` in plain text and turns TLS on before another byte is read: the host starts its
   * handshake as soon as it has the reply. Resolves when the handshake is done and the peer accepted.
   */
  async sendThenStartTls(reply: PlistDict, options: TlsServerOptions): Promise<void> {
    const frame = encodeBigEndianLengthPrefixed(encodePlistXml(reply));
    this.channel.write(frame);
    return this.startTls(options);
  }

  startTls(options: TlsServerOptions): Promise<void> {
    this.mode = 'tls';
    this.tlsFrames = new FrameDecoder(plistServiceFormat(this.maxPayload));
    this.tls = new TlsServerSession(
      (chunk) => this.channel.write(chunk),
      options,
      (clear) => this.onFrames(this.tlsFrames, clear),
      (error) => this.fail(error),
    );
    return this.tls.secured;
  }

  /** After `StopSession`'s reply: back to plain text; the host's close_notify is skipped. */
  stopTls(): void {
    if (this.mode !== 'tls' || !this.tls) return;
    this.tls.unhook();
    this.tls = undefined;
    this.tlsFrames = undefined;
    this.mode = 'after-tls';
    this.tlsRecords = new FrameDecoder(TLS_RECORD_FORMAT);
  }

  close(): void {
    if (!this.channel.destroyed) this.channel.destroy();
    this.finish(undefined);
  }

  /** Ends the connection because the peer sent something we cannot accept. */
  fail(reason: Error): void {
    if (!this.channel.destroyed) this.channel.destroy();
    this.finish(reason);
  }

  /**
   * Input that is not a request: answers with `malformedReply` (when the service has one), then
   * ends the connection. Requests already queued behind it are dropped, nothing more is read.
   */
  async refuse(reason: Error): Promise<void> {
    if (this.ended || this.refusing) return;
    const reply = this.options.malformedReply?.(reason);
    if (!reply) return this.fail(reason);
    this.refusing = true;
    this.queue.length = 0;
    try {
      await this.write(reply);
    } catch {
      // The peer is gone already: nothing to tell it.
    }
    this.finish(reason);
    this.channel.end();
    // A peer that never closes its end would keep the socket half-open forever.
    setTimeout(() => this.channel.destroy(), 2_000).unref();
  }

  private onRaw(chunk: Buffer): void {
    if (this.ended || this.refusing) return;
    if (this.mode === 'tls') {
      this.tls?.feed(chunk);
      return;
    }
    if (this.mode === 'after-tls') {
      chunk = this.skipTlsRecords(chunk);
      if (chunk.length === 0) return;
    }
    this.onFrames(this.plainFrames, chunk);
  }

  private skipTlsRecords(chunk: Buffer): Buffer {
    const records = this.tlsRecords;
    if (!records) return chunk;
    try {
      records.push(chunk);
      return Buffer.alloc(0);
    } catch {
      // Not a TLS record: plain text resumes here.
      this.mode = 'plain';
      this.tlsRecords = undefined;
      return records.takeRemaining();
    }
  }

  private onFrames(decoder: FrameDecoder | undefined, chunk: Buffer): void {
    if (!decoder || this.ended || this.refusing) return;
    try {
      this.queue.push(...decoder.push(chunk));
    } catch (error) {
      void this.refuse(error as Error);
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping || !this.handler) return;
    this.pumping = true;
    try {
      while (!this.ended && !this.refusing && this.queue.length > 0) {
        const frame = this.queue.shift() as Buffer;
        let request: PlistDict;
        try {
          request = decodePlistDict(framePayload(frame));
        } catch (error) {
          await this.refuse(error as Error);
          return;
        }
        try {
          await this.handler(request);
        } catch (error) {
          // A mistyped field the handler tripped over is malformed input too.
          if (error instanceof ProtocolError) await this.refuse(error);
          else this.fail(error instanceof Error ? error : new Error(String(error)));
          return;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private finish(reason: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.tls?.unhook();
    this.options.onClose?.(reason);
  }
}
