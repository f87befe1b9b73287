// restored (device port 62078 in restore mode) over an open channel: the handshake requests,
// typed device messages, and a MsgType → handler dispatch table for the restore itself
// (restore-protocol.md §3.6; idevicerestore-1.0.0 notes §2).
import type { Duplex } from 'node:stream';
import { BenchError, CancelledError, DeviceHardwareError } from '@bench/bench-domain';
import {
  decodeHardwareInfo,
  decodeQueryValueReply,
  decodeRestoredMessage,
  decodeRestoredQueryType,
  decodeSavedDebugInfo,
  DEFAULT_RESTORED_LABEL,
  DEVICE_HARDWARE_STATUS_CODES,
  ProtocolError,
  RESTORED_PORT,
  restoredReplies,
  restoredRequests,
  restoreStatusMeaning,
  type HardwareInfo,
  type PlistDict,
  type PlistValue,
  type RestoredMessage,
  type RestoredMessageOf,
  type RestoredMsgType,
  type RestoredQueryType,
  type SavedDebugInfo,
} from '@bench/protocols';
import type { UsbmuxClient } from '../usbmux/usbmux-client';
import {
  PlistServiceClient,
  type PlistServiceClientOptions,
  type ReceiveOptions,
} from './plist-service-client';
import { DeviceServiceError } from './service-errors';

/** Opens a connection to another TCP port of the same device (DataPort side channels, ASR, FDR). */
export type DevicePortConnector = (port: number, signal?: AbortSignal) => Promise<Duplex>;

export interface RestoredClientOptions extends PlistServiceClientOptions {
  label?: string;
  connect?: DevicePortConnector;
}

/** `'stop'` ends the message loop after this message. */
export type RestoredHandlerResult = void | 'stop';

export interface RestoredHandlerContext {
  client: RestoredClient;
  /** Aborted when the loop ends (cancel, failure of another handler). */
  signal: AbortSignal;
}

export type RestoredHandler<T extends RestoredMsgType> = (
  message: RestoredMessageOf<T>,
  context: RestoredHandlerContext,
) => RestoredHandlerResult | Promise<RestoredHandlerResult>;

export type RestoredHandlers = { [T in RestoredMsgType]?: RestoredHandler<T> };

export interface MessageLoopOptions {
  signal?: AbortSignal;
  /** Fail with a 'timeout' DeviceServiceError after this long without a device message; 0 = never. */
  idleTimeoutMs?: number;
}

/** The device ended the restore with a non-zero StatusMsg. */
export class RestoreStatusError extends BenchError {
  constructor(readonly statusMessage: RestoredMessageOf<'StatusMsg'>) {
    const { status, amrError, log } = statusMessage;
    super(
      `restore failed on the device: ${restoreStatusMeaning(status)} (status ${status}${amrError === undefined ? '' : `, AMRError ${amrError}`})`,
      DEVICE_HARDWARE_STATUS_CODES.includes(status) ? 'device-hardware' : 'unknown',
      { statusCode: status, deviceLog: log, lastDeviceMessage: 'StatusMsg' },
    );
  }

  get status(): number {
    return this.statusMessage.status;
  }
}

export class RestoredClient {
  readonly service: PlistServiceClient;
  private readonly label: string;
  private readonly connector?: DevicePortConnector;
  private protocolVersion?: number;

  constructor(channel: Duplex, options: RestoredClientOptions = {}) {
    this.service = new PlistServiceClient(channel, { service: 'restored', ...options });
    this.label = options.label ?? DEFAULT_RESTORED_LABEL;
    this.connector = options.connect;
  }

  /** Connects to restored on 62078 through usbmuxd; side connections go through the same usbmuxd. */
  static async open(
    usbmux: UsbmuxClient,
    deviceId: number,
    options: RestoredClientOptions & { signal?: AbortSignal } = {},
  ): Promise<RestoredClient> {
    const channel = await usbmux.connect(deviceId, RESTORED_PORT, { signal: options.signal });
    return new RestoredClient(channel, {
      connect: (port, signal) => usbmux.connect(deviceId, port, { signal }),
      ...options,
    });
  }

  /** RestoreProtocolVersion from the last QueryType. */
  get restoreProtocolVersion(): number | undefined {
    return this.protocolVersion;
  }

  async queryType(): Promise<RestoredQueryType> {
    const answer = await this.service.request(restoredRequests.queryType(this.label));
    const decoded = decode(() => decodeRestoredQueryType(answer));
    this.protocolVersion = decoded.restoreProtocolVersion;
    return decoded;
  }

  async queryValue(key: string): Promise<PlistValue | undefined> {
    const answer = await this.service.request(restoredRequests.queryValue(key, this.label));
    return decode(() => decodeQueryValueReply(answer, key));
  }

  async hardwareInfo(): Promise<HardwareInfo> {
    const value = await this.queryValue('HardwareInfo');
    return decode(() => decodeHardwareInfo(value));
  }

  async savedDebugInfo(): Promise<SavedDebugInfo> {
    const value = await this.queryValue('SavedDebugInfo');
    return decode(() => decodeSavedDebugInfo(value));
  }

  /** No direct reply: the device starts streaming messages (read them with messages() or runMessageLoop). */
  async startRestore(restoreOptions: PlistDict, protocolVersion = this.protocolVersion): Promise<void> {
    if (protocolVersion === undefined)
      throw new Error('startRestore needs the RestoreProtocolVersion: call queryType() first');
    await this.service.send(restoredRequests.startRestore(protocolVersion, restoreOptions, this.label));
  }

  /** Sends a reply on the restored connection. */
  send(reply: PlistDict): Promise<void> {
    return this.service.send(reply);
  }

  /** The next device message, typed. */
  async receiveMessage(options: ReceiveOptions = {}): Promise<RestoredMessage> {
    const dict = await this.service.receive(options);
    return decode(() => decodeRestoredMessage(dict));
  }

  /** Device messages until the connection ends (which then throws a 'closed' DeviceServiceError). */
  async *messages(options: MessageLoopOptions = {}): AsyncGenerator<RestoredMessage, never> {
    for (;;)
      yield await this.receiveMessage({ signal: options.signal, timeoutMs: options.idleTimeoutMs ?? 0 });
  }

  /**
   * A side connection for a DataRequestMsg with DataPort, framed like restored (4-byte length +
   * plist). The caller closes it.
   */
  async openDataPort(port: number, signal?: AbortSignal): Promise<PlistServiceClient> {
    return new PlistServiceClient(await this.connectPort(port, signal), {
      service: `restored data port ${port}`,
    });
  }

  /** A raw connection to another device port (ASR, FDR). */
  connectPort(port: number, signal?: AbortSignal): Promise<Duplex> {
    if (!this.connector)
      throw new Error('RestoredClient was built without a connect function for side ports');
    return this.connector(port, signal);
  }

  /**
   * Reads device messages and dispatches each on its MsgType. A handler returning 'stop' ends
   * the loop (resolving with that message); a handler that throws fails the loop with its
   * error. AsyncDataRequestMsg handlers run in the background; the loop fails as soon as one
   * of them does, and waits for them before resolving.
   *
   * Defaults where `handlers` has no entry: StatusMsg 0 → send ReceivedFinalStatusMsg and stop;
   * other StatusMsg → RestoreStatusError; BBUpdateStatusMsg with Accepted false →
   * DeviceHardwareError; RestoreAttestation → {RestoreShouldAttest: false}; a data request →
   * error (nobody would answer it); anything else is informational and skipped.
   */
  async runMessageLoop(
    handlers: RestoredHandlers,
    options: MessageLoopOptions = {},
  ): Promise<RestoredMessage> {
    const loop = new AbortController();
    const cancel = () => loop.abort(new CancelledError('restored message loop cancelled'));
    if (options.signal?.aborted) cancel();
    options.signal?.addEventListener('abort', cancel, { once: true });
    // A failing background handler aborts `loop`, which cancels the pending receive (no race
    // against a long-lived promise, which would pin every message until the loop ends).
    const background = new Set<Promise<void>>();
    let backgroundFailure: { error: unknown } | undefined;
    const rethrowBackgroundFailure = () => {
      if (backgroundFailure) throw backgroundFailure.error;
    };
    const context: RestoredHandlerContext = { client: this, signal: loop.signal };
    try {
      for (;;) {
        let message: RestoredMessage;
        try {
          if (loop.signal.aborted) throw loop.signal.reason;
          message = await this.receiveMessage({ signal: loop.signal, timeoutMs: options.idleTimeoutMs ?? 0 });
        } catch (error) {
          rethrowBackgroundFailure();
          throw loop.signal.aborted ? loop.signal.reason : error;
        }
        if (message.msgType === 'AsyncDataRequestMsg') {
          const task = Promise.resolve()
            .then(() => dispatch(handlers, message, context))
            .then(
              () => undefined,
              (error: unknown) => {
                backgroundFailure ??= { error };
                loop.abort(error);
              },
            );
          background.add(task);
          void task.then(() => background.delete(task));
          continue;
        }
        const result = await dispatch(handlers, message, context);
        rethrowBackgroundFailure();
        if (result === 'stop') {
          await Promise.all(background);
          rethrowBackgroundFailure();
          return message;
        }
      }
    } finally {
      options.signal?.removeEventListener('abort', cancel);
      if (!loop.signal.aborted) loop.abort(new CancelledError('restored message loop ended'));
    }
  }

  /** Goodbye and wait for the answer; a device that closes instead is fine too. */
  async goodbye(timeoutMs = 30_000): Promise<void> {
    if (this.service.closed) return;
    try {
      await this.service.request(restoredRequests.goodbye(this.label), { timeoutMs });
    } catch (error) {
      if (!(error instanceof DeviceServiceError && error.kind === 'closed')) throw error;
    }
  }

  /** Kicks a device out of restore mode (not part of a restore: the device reboots by itself). */
  async reboot(): Promise<void> {
    await this.service.request(restoredRequests.reboot(this.label));
  }

  close(): void {
    this.service.close();
  }
}

async function dispatch(
  handlers: RestoredHandlers,
  message: RestoredMessage,
  context: RestoredHandlerContext,
): Promise<RestoredHandlerResult> {
  const handler = handlers[message.msgType] as RestoredHandler<RestoredMsgType> | undefined;
  if (handler) return handler(message, context);
  return defaultHandling(message, context.client);
}

async function defaultHandling(
  message: RestoredMessage,
  client: RestoredClient,
): Promise<RestoredHandlerResult> {
  switch (message.msgType) {
    case 'StatusMsg':
      if (message.status !== 0) throw new RestoreStatusError(message);
      await client.send(restoredReplies.receivedFinalStatus());
      return 'stop';
    case 'BBUpdateStatusMsg':
      if (message.accepted === false) {
        throw new DeviceHardwareError("the device didn't accept BasebandData", {
          lastDeviceMessage: 'BBUpdateStatusMsg',
        });
      }
      return;
    case 'RestoreAttestation':
      await client.send(restoredReplies.restoreAttestation());
      return;
    case 'DataRequestMsg':
    case 'AsyncDataRequestMsg':
      throw new Error(`no handler for ${message.msgType} (DataType ${message.dataType})`);
    default:
      return;
  }
}

function decode<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new DeviceServiceError('malformed', 'restored', error.message, {}, { cause: error });
    }
    throw error;
  }
}
