// One client of the simulated usbmuxd: plist-protocol requests until the client sends `Listen`
// (then it also receives Attached/Detached/Paired events) or a successful `Connect` (then the
// socket becomes a raw pipe to the device port). Anything malformed gets an error Result and the
// connection is closed; other clients and the phones are not affected.
import type net from 'node:net';
import {
  FrameDecoder,
  ProtocolError,
  USBMUX_HEADER_LENGTH,
  USBMUX_PLIST_VERSION,
  UsbmuxMessage,
  UsbmuxResult,
  decodeUsbmuxHeader,
  decodePlistDict,
  encodeAttached,
  encodeUsbmuxPlist,
  optionalData,
  optionalInteger,
  optionalString,
  requireInteger,
  requireString,
  resultBody,
  swapPort,
  usbmuxFormat,
  type PlistDict,
} from '@bench/protocols';
import type { MuxDevice } from './mux-device';
import { PairRecordStore } from './pair-record-store';

/** A client that sent `Listen`. */
export interface UsbmuxListener {
  readonly clientId: number;
  readonly progName: string;
  readonly clientVersion: string;
  readonly bundleId: string;
  attached(device: MuxDevice): void;
  detached(deviceId: number): void;
  paired(deviceId: number): void;
}

/** What a client connection needs from the endpoint. */
export interface UsbmuxEndpoint {
  readonly devices: MuxDevice[];
  deviceById(deviceId: number): MuxDevice | undefined;
  readonly pairRecords: PairRecordStore;
  readonly buid: string;
  readonly listenerList: UsbmuxListener[];
  subscribe(listener: UsbmuxListener): void;
  unsubscribe(listener: UsbmuxListener): void;
  notifyPaired(deviceId: number): void;
  reportClientError(error: Error): void;
}

export class UsbmuxClientConnection implements UsbmuxListener {
  private readonly decoder: FrameDecoder;
  private readonly frames: Buffer[] = [];
  private processing = false;
  private state: 'requests' | 'piped' | 'closed' = 'requests';
  private listening = false;
  progName = '';
  clientVersion = '';
  bundleId = '';

  constructor(
    private readonly socket: net.Socket,
    readonly clientId: number,
    private readonly endpoint: UsbmuxEndpoint,
    maxFrameBytes = 1024 * 1024,
  ) {
    this.decoder = new FrameDecoder(usbmuxFormat(maxFrameBytes));
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.state = 'closed';
      if (this.listening) this.endpoint.unsubscribe(this);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  attached(device: MuxDevice): void {
    this.send(0, encodeAttached(device.record));
  }

  detached(deviceId: number): void {
    this.send(0, { MessageType: 'Detached', DeviceID: deviceId });
  }

  paired(deviceId: number): void {
    this.send(0, { MessageType: 'Paired', DeviceID: deviceId });
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.state !== 'requests') return;
    try {
      this.frames.push(...this.decoder.push(chunk));
    } catch (error) {
      const held = this.decoder.takeRemaining();
      const tag = held.length >= USBMUX_HEADER_LENGTH ? held.readUInt32LE(12) : 0;
      this.refuse(tag, UsbmuxResult.BadCommand, error as Error);
      return;
    }
    void this.process();
  };

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.state === 'requests' && this.frames.length > 0) {
        await this.handleFrame(this.frames.shift() as Buffer);
      }
    } finally {
      this.processing = false;
    }
  }

  private async handleFrame(frame: Buffer): Promise<void> {
    const header = decodeUsbmuxHeader(frame);
    if (header.version !== USBMUX_PLIST_VERSION) {
      const error = new ProtocolError(
        `usbmux protocol version ${header.version} is not spoken here`,
        'version',
      );
      return this.refuse(header.tag, UsbmuxResult.BadVersion, error);
    }
    if (header.message !== UsbmuxMessage.Plist) {
      const error = new ProtocolError(
        `usbmux message ${header.message} outside the plist protocol`,
        'message',
      );
      return this.refuse(header.tag, UsbmuxResult.BadCommand, error);
    }
    try {
      const body = decodePlistDict(frame.subarray(USBMUX_HEADER_LENGTH));
      await this.handleRequest(header.tag, body);
    } catch (error) {
      this.refuse(header.tag, UsbmuxResult.BadCommand, error as Error);
    }
  }

  private async handleRequest(tag: number, body: PlistDict): Promise<void> {
    const messageType = requireString(body, 'MessageType', 'usbmux request');
    this.progName = optionalString(body, 'ProgName') ?? this.progName;
    this.clientVersion = optionalString(body, 'ClientVersionString') ?? this.clientVersion;
    this.bundleId = optionalString(body, 'BundleID') ?? this.bundleId;
    switch (messageType) {
      case 'ListDevices':
        return this.send(tag, { DeviceList: this.endpoint.devices.map((d) => encodeAttached(d.record)) });
      case 'Listen':
        return this.listen(tag);
      case 'Connect':
        return this.connect(tag, body);
      case 'ReadBUID':
        return this.send(tag, { BUID: this.endpoint.buid });
      case 'ReadPairRecord':
        return this.readPairRecord(tag, body);
      case 'SavePairRecord':
        return this.savePairRecord(tag, body);
      case 'DeletePairRecord': {
        const deleted = await this.endpoint.pairRecords.delete(this.recordId(body));
        return this.send(tag, resultBody(deleted ? UsbmuxResult.Ok : UsbmuxResult.BadDevice));
      }
      case 'ListListeners':
        return this.send(tag, { ListenerList: this.endpoint.listenerList.map(describeListener) });
      default:
        // An unknown request is answered, not fatal: newer clients probe for features this way.
        return this.send(tag, resultBody(UsbmuxResult.BadCommand));
    }
  }

  private listen(tag: number): void {
    this.send(tag, resultBody(UsbmuxResult.Ok));
    if (this.listening) return;
    this.listening = true;
    for (const device of this.endpoint.devices) this.attached(device);
    this.endpoint.subscribe(this);
  }

  private connect(tag: number, body: PlistDict): void {
    const deviceId = requireInteger(body, 'DeviceID', 'Connect');
    const swapped = requireInteger(body, 'PortNumber', 'Connect');
    if (swapped < 1 || swapped > 0xffff) throw new ProtocolError(`Connect to port ${swapped}`, 'PortNumber');
    const device = this.endpoint.deviceById(deviceId);
    if (!device) return this.send(tag, resultBody(UsbmuxResult.BadDevice));
    const port = swapPort(swapped);
    device.context.onConnect?.(port);
    if (!device.ports.isListening(port)) return this.send(tag, resultBody(UsbmuxResult.ConnectionRefused));
    this.send(tag, resultBody(UsbmuxResult.Ok));
    this.pipeTo(device, port);
  }

  /** From here on the socket carries the device port's bytes; what we already read goes back in front. */
  private pipeTo(device: MuxDevice, port: number): void {
    this.state = 'piped';
    this.socket.pause();
    this.socket.off('data', this.onData);
    const early = Buffer.concat([...this.frames.splice(0), this.decoder.takeRemaining()]);
    if (early.length > 0) this.socket.unshift(early);
    if (!device.ports.connect(port, this.socket)) this.socket.destroy();
  }

  private async readPairRecord(tag: number, body: PlistDict): Promise<void> {
    const record = await this.endpoint.pairRecords.read(this.recordId(body));
    if (!record) return this.send(tag, resultBody(UsbmuxResult.BadDevice));
    this.send(tag, { PairRecordData: record });
  }

  private async savePairRecord(tag: number, body: PlistDict): Promise<void> {
    const data = optionalData(body, 'PairRecordData');
    if (!data || data.length === 0)
      throw new ProtocolError('SavePairRecord without PairRecordData', 'PairRecordData');
    await this.endpoint.pairRecords.save(this.recordId(body), data);
    this.send(tag, resultBody(UsbmuxResult.Ok));
    const deviceId = optionalInteger(body, 'DeviceID');
    if (deviceId !== undefined && this.endpoint.deviceById(deviceId)) this.endpoint.notifyPaired(deviceId);
  }

  private recordId(body: PlistDict): string {
    const id = requireString(body, 'PairRecordID', 'pair record request');
    if (!PairRecordStore.isValidRecordId(id)) {
      throw new ProtocolError(
        `PairRecordID ${JSON.stringify(id.slice(0, 80))} is not a UDID`,
        'PairRecordID',
      );
    }
    return id;
  }

  private send(tag: number, body: PlistDict): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.socket.write(encodeUsbmuxPlist(tag, body));
  }

  /** Answers with an error Result, then closes this client only. */
  private refuse(tag: number, result: number, error: Error): void {
    if (this.state === 'closed') return;
    this.endpoint.reportClientError(error);
    this.send(tag, resultBody(result));
    this.state = 'closed';
    this.frames.length = 0;
    this.socket.end();
    // A client that never reads its end would keep the socket half-open forever.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }
}

function describeListener(listener: UsbmuxListener): PlistDict {
  return {
    'ID String': String(listener.clientId),
    ProgName: listener.progName,
    ClientVersionString: listener.clientVersion,
    BundleID: listener.bundleId,
    ConnType: 0,
    Blacklisted: false,
  };
}
