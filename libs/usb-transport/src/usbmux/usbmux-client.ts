// A usbmuxd client. Like libusbmuxd, every operation uses its own socket: a Listen socket only
// carries events afterwards, and a connected socket becomes a byte pipe to the device.
import type { Duplex } from 'node:stream';
import { CancelledError } from '@bench/bench-domain';
import {
  decodeDeviceList,
  decodeEvent,
  decodePairRecord,
  DEFAULT_CLIENT_IDENTITY,
  encodePairRecord,
  encodePlistXml,
  optionalData,
  ProtocolError,
  resultNumber,
  UsbmuxResult,
  usbmuxRequests,
  type PairRecord,
  type PlistDict,
  type UsbmuxClientIdentity,
  type UsbmuxDevice,
  type UsbmuxEvent,
} from '@bench/protocols';
import { connectUsbmuxSocket, parseUsbmuxAddress, type UsbmuxAddress } from './usbmux-address';
import { UsbmuxConnection } from './usbmux-connection';
import { PairRecordNotFoundError, UsbmuxError } from './usbmux-errors';

/** Opens a fresh socket to usbmuxd (the factory decides unix vs TCP). */
export type UsbmuxChannelFactory = (signal?: AbortSignal) => Promise<Duplex>;

export interface UsbmuxClientOptions {
  identity?: UsbmuxClientIdentity;
  /** Per request, waiting on usbmuxd itself. */
  requestTimeoutMs?: number;
  /** Connect waits on the device answering the TCP connection. */
  connectTimeoutMs?: number;
}

export interface UsbmuxCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class UsbmuxClient {
  private readonly identity: UsbmuxClientIdentity;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;

  constructor(
    private readonly openChannel: UsbmuxChannelFactory,
    options: UsbmuxClientOptions = {},
  ) {
    this.identity = options.identity ?? DEFAULT_CLIENT_IDENTITY;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  }

  /** `address` is a USBMUXD_SOCKET_ADDRESS value (e.g. `env.usbmuxdSocketAddress`); unset → /var/run/usbmuxd. */
  static forAddress(
    address: string | UsbmuxAddress | undefined,
    options: UsbmuxClientOptions = {},
  ): UsbmuxClient {
    const resolved = typeof address === 'object' ? address : parseUsbmuxAddress(address);
    return new UsbmuxClient((signal) => connectUsbmuxSocket(resolved, { signal }), options);
  }

  async listDevices(options: UsbmuxCallOptions = {}): Promise<UsbmuxDevice[]> {
    const reply = await this.oneShot(usbmuxRequests.listDevices(this.identity), options);
    return decodeOrThrow('ListDevices', () => decodeDeviceList(reply));
  }

  async readBuid(options: UsbmuxCallOptions = {}): Promise<string> {
    const reply = await this.oneShot(usbmuxRequests.readBuid(this.identity), options);
    const buid = reply.BUID;
    if (typeof buid !== 'string') throw resultOrMalformed('ReadBUID', reply, 'lacks BUID');
    return buid;
  }

  /** The raw PairRecordData (a plist; usbmuxd hands out binary). */
  async readPairRecordData(udid: string, options: UsbmuxCallOptions = {}): Promise<Uint8Array> {
    const reply = await this.oneShot(usbmuxRequests.readPairRecord(udid, this.identity), options);
    const number = resultNumber(reply);
    if (number === UsbmuxResult.BadDevice) throw new PairRecordNotFoundError(udid);
    const data = decodeOrThrow('ReadPairRecord', () => optionalData(reply, 'PairRecordData'));
    if (data === undefined) throw resultOrMalformed('ReadPairRecord', reply, 'lacks PairRecordData');
    return data;
  }

  async readPairRecord(udid: string, options: UsbmuxCallOptions = {}): Promise<PairRecord> {
    const data = await this.readPairRecordData(udid, options);
    return decodeOrThrow('ReadPairRecord', () => decodePairRecord(data));
  }

  async savePairRecord(
    udid: string,
    record: PairRecord | Uint8Array,
    deviceId = 0,
    options: UsbmuxCallOptions = {},
  ): Promise<void> {
    const data = record instanceof Uint8Array ? record : encodePlistXml(encodePairRecord(record));
    const reply = await this.oneShot(
      usbmuxRequests.savePairRecord(udid, data, deviceId, this.identity),
      options,
    );
    expectOk('SavePairRecord', reply);
  }

  async deletePairRecord(udid: string, options: UsbmuxCallOptions = {}): Promise<void> {
    const reply = await this.oneShot(usbmuxRequests.deletePairRecord(udid, this.identity), options);
    const number = resultNumber(reply);
    if (number === UsbmuxResult.BadDevice) throw new PairRecordNotFoundError(udid);
    expectOk('DeletePairRecord', reply);
  }

  /**
   * Subscribes to Attached/Detached/Paired events. Resolves once usbmuxd acknowledged Listen
   * (Result 0); usbmuxd then announces the devices already attached.
   */
  async listen(options: UsbmuxCallOptions = {}): Promise<UsbmuxEventStream> {
    const connection = await this.open(options.signal);
    const stream = new UsbmuxEventStream(connection, options.signal);
    try {
      const reply = await withAbort(
        connection.request(usbmuxRequests.listen(this.identity), options.timeoutMs ?? this.requestTimeoutMs),
        options.signal,
        () => stream.close(),
      );
      expectOk('Listen', reply);
      return stream;
    } catch (error) {
      stream.close();
      throw error;
    }
  }

  /**
   * Opens a TCP connection to `port` on the device and returns the socket as a raw byte pipe,
   * **paused** (so no byte is lost before a reader attaches: call resume() or pipe() it; the
   * clients in services/ do). Refusals are typed: BADDEV (device gone) and CONNREFUSED (port
   * closed) are transient-usb.
   */
  async connect(deviceId: number, port: number, options: UsbmuxCallOptions = {}): Promise<Duplex> {
    const connection = await this.open(options.signal);
    return withAbort(
      connection.connectPipe(
        usbmuxRequests.connect(deviceId, port, this.identity),
        options.timeoutMs ?? this.connectTimeoutMs,
      ),
      options.signal,
      () => {
        connection.close();
        // the socket may already have been handed over when the abort lands
        connection.destroyQuietly();
      },
    );
  }

  private async open(signal?: AbortSignal): Promise<UsbmuxConnection> {
    return new UsbmuxConnection(await this.openChannel(signal));
  }

  private async oneShot(body: PlistDict, options: UsbmuxCallOptions): Promise<PlistDict> {
    const connection = await this.open(options.signal);
    try {
      return await withAbort(
        connection.request(body, options.timeoutMs ?? this.requestTimeoutMs),
        options.signal,
        () => connection.close(),
      );
    } finally {
      connection.close();
    }
  }
}

/**
 * Device events from a Listen socket, as an async iterable. Iteration ends when close() is
 * called or the signal aborts; if usbmuxd drops the socket it fails with a UsbmuxError
 * ('connection-closed'), so the caller knows to listen again.
 */
export class UsbmuxEventStream implements AsyncIterableIterator<UsbmuxEvent> {
  private readonly queue: UsbmuxEvent[] = [];
  private readonly waiters: Array<{ resolve(r: IteratorResult<UsbmuxEvent>): void; reject(e: Error): void }> =
    [];
  private ended = false;
  private failure?: Error;
  private paused = false;
  private static readonly HIGH_WATER = 1024;

  constructor(
    private readonly connection: UsbmuxConnection,
    private readonly signal?: AbortSignal,
  ) {
    connection.subscribe({ event: (body) => this.onEvent(body), end: (error) => this.onEnd(error) });
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.close();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<UsbmuxEvent> {
    return this;
  }

  next(): Promise<IteratorResult<UsbmuxEvent>> {
    const event = this.queue.shift();
    if (event) {
      if (this.paused && this.queue.length < UsbmuxEventStream.HIGH_WATER / 4) {
        this.paused = false;
        this.connection.resume();
      }
      return Promise.resolve({ value: event, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<UsbmuxEvent>> {
    this.close();
    return { value: undefined, done: true };
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.connection.close();
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
  }

  private onEvent(body: PlistDict): void {
    let event: UsbmuxEvent | undefined;
    try {
      event = decodeEvent(body);
    } catch (error) {
      this.onEnd(
        new UsbmuxError(
          'malformed',
          `usbmuxd sent a malformed event: ${String(error)}`,
          'Listen',
          undefined,
          {},
          { cause: error },
        ),
      );
      this.connection.close();
      return;
    }
    if (!event) return;
    const waiter = this.waiters.shift();
    if (waiter) return waiter.resolve({ value: event, done: false });
    this.queue.push(event);
    if (!this.paused && this.queue.length >= UsbmuxEventStream.HIGH_WATER) {
      this.paused = true;
      this.connection.pause();
    }
  }

  private onEnd(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    if (error) this.failure = error;
    for (const waiter of this.waiters.splice(0)) {
      if (error) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  private readonly onAbort = (): void => this.close();
}

function expectOk(request: string, reply: PlistDict): void {
  const number = decodeOrThrow(request, () => resultNumber(reply));
  if (number === undefined) throw resultOrMalformed(request, reply, 'is not a Result');
  if (number !== 0) throw UsbmuxError.result(request, number);
}

function resultOrMalformed(request: string, reply: PlistDict, what: string): UsbmuxError {
  const number =
    typeof reply.Number === 'number' && reply.MessageType === 'Result' ? reply.Number : undefined;
  if (number !== undefined && number !== 0) return UsbmuxError.result(request, number);
  return new UsbmuxError('malformed', `usbmuxd reply to ${request} ${what}`, request);
}

function decodeOrThrow<T>(request: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new UsbmuxError(
        'malformed',
        `usbmuxd reply to ${request}: ${error.message}`,
        request,
        undefined,
        {},
        { cause: error },
      );
    }
    throw error;
  }
}

/** Races `promise` against the signal; on abort runs `cleanup` and rejects with CancelledError. */
function withAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, cleanup: () => void): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    cleanup();
    return Promise.reject(new CancelledError('usbmux request cancelled'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      cleanup();
      reject(new CancelledError('usbmux request cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
