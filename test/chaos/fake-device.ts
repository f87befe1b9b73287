// A usbmuxd endpoint on a real TCP socket that misbehaves on purpose, for the malformed-input rows
// of the device edge: bench's own clients (UsbmuxClient, LockdownClient, RestoredClient, the
// ASR sender) talk to it exactly as to usbmuxd and a phone. Each connection is answered by the
// scenario the test set last: a broken usbmuxd reply, or, after a successful Connect, the bytes
// a broken lockdownd, restored or ASR service would send.
import { createServer, type Server, type Socket } from 'node:net';
import {
  decodeUsbmuxPacket,
  encodeUsbmuxPlist,
  FrameDecoder,
  usbmuxFormat,
  type PlistDict,
} from '@bench/protocols';

export interface FakeDeviceScenario {
  /** The reply to ListDevices (and any request but Connect): raw bytes of a whole usbmux answer. */
  usbmuxReply?: (tag: number) => Buffer;
  /** After Connect succeeds: what the "device" writes, once the host has sent its first bytes. */
  afterHostSpeaks?: Buffer;
  /** After Connect succeeds: what the "device" writes at once (ASR speaks first). */
  deviceSpeaksFirst?: Buffer;
}

/** One plist-service frame: 4-byte big-endian length, then the payload (often not a plist). */
export function lengthPrefixed(payload: Buffer | string, length?: number): Buffer {
  const body = Buffer.from(payload);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length ?? body.length);
  return Buffer.concat([prefix, body]);
}

/** A usbmux packet with a header we choose (length, version, message type) around `payload`. */
export function usbmuxPacket(
  tag: number,
  payload: Buffer | string,
  header: { length?: number; version?: number; message?: number } = {},
): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(16);
  head.writeUInt32LE(header.length ?? 16 + body.length, 0);
  head.writeUInt32LE(header.version ?? 1, 4);
  head.writeUInt32LE(header.message ?? 8, 8);
  head.writeUInt32LE(tag, 12);
  return Buffer.concat([head, body]);
}

export function usbmuxReply(tag: number, body: PlistDict): Buffer {
  return encodeUsbmuxPlist(tag, body);
}

export class FakeDevice {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  scenario: FakeDeviceScenario = {};
  /** The device id ListDevices would name (Connect accepts any). */
  readonly deviceId = 7;

  constructor() {
    this.server = createServer((socket) => this.serve(socket));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => this.sockets.delete(socket));
    const scenario = this.scenario;
    const decoder = new FrameDecoder(usbmuxFormat());
    let piped = false;
    let answer = scenario.afterHostSpeaks;
    socket.on('data', (chunk: Buffer) => {
      if (piped) {
        // The host spoke to the "device": answer once with the scenario's bytes.
        if (answer) socket.write(answer);
        answer = undefined;
        return;
      }
      for (const frame of decoder.push(chunk, 1)) {
        const { header, body } = decodeUsbmuxPacket(frame);
        if (body.MessageType === 'Connect') {
          piped = true;
          socket.write(usbmuxReply(header.tag, { MessageType: 'Result', Number: 0 }));
          if (scenario.deviceSpeaksFirst) socket.write(scenario.deviceSpeaksFirst);
          return;
        }
        socket.write(scenario.usbmuxReply?.(header.tag) ?? usbmuxReply(header.tag, { DeviceList: [] }));
      }
    });
  }
}
