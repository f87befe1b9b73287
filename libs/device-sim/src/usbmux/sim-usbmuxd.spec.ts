// The endpoint is a socket server, so these specs talk to it over loopback TCP (no other I/O).
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import {
  FrameDecoder,
  UsbmuxResult,
  decodeEvent,
  decodeUsbmuxPacket,
  encodeUsbmuxPlist,
  resultNumber,
  usbmuxFormat,
  usbmuxRequests,
  type PlistDict,
} from '@bench/protocols';
import { createPhone } from '../phone/phone-factory';
import type { SimPhone } from '../phone/sim-phone';
import { SeededRandom } from '../time/random';
import { SimClock } from '../time/sim-clock';
import { locationIdOf } from './location-id';
import type { MuxDevice, UsbmuxPersonality } from './mux-device';
import { SimUsbmuxd } from './sim-usbmuxd';

/** A personality whose port 7000 echoes what it gets, upper-cased. */
class EchoPersonality implements UsbmuxPersonality {
  attach(device: MuxDevice): void {
    device.ports.listen(7000, (channel: Duplex) => {
      channel.on('data', (chunk: Buffer) => channel.write(chunk.toString().toUpperCase()));
      channel.on('error', () => undefined);
    });
  }
}

/** One usbmux client socket: send plist requests, read replies and events in order. */
class Client {
  readonly socket: net.Socket;
  private readonly decoder = new FrameDecoder(usbmuxFormat());
  private readonly inbox: PlistDict[] = [];
  private waiter?: () => void;
  raw = '';
  piped = false;
  closed = false;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      if (this.piped) this.raw += chunk.toString();
      else for (const frame of this.decoder.push(chunk)) this.inbox.push(decodeUsbmuxPacket(frame).body);
      this.waiter?.();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  send(body: PlistDict, tag = 1): void {
    this.socket.write(encodeUsbmuxPlist(tag, body));
  }

  async next(): Promise<PlistDict> {
    while (this.inbox.length === 0) {
      if (this.closed) throw new Error('closed');
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    return this.inbox.shift() as PlistDict;
  }

  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => (this.waiter = resolve));
  }

  /** After a successful Connect: what follows the Result is the device's bytes. */
  pipe(): void {
    this.piped = true;
    this.raw += this.decoder.takeRemaining().toString();
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('simulated usbmuxd', () => {
  const clock = new SimClock(1000);
  let endpoint: SimUsbmuxd;
  let port: number;
  let phones: SimPhone[];
  let dir: string;
  const clients: Client[] = [];

  function client(): Client {
    const made = new Client(port);
    clients.push(made);
    return made;
  }

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sim-usbmuxd-'));
    const random = new SeededRandom(77);
    phones = [
      createPhone({ productType: 'iPhone10,1' }, clock, random),
      createPhone({ productType: 'iPhone9,1', stage: 'secure-rom' }, clock, random),
    ];
    endpoint = new SimUsbmuxd({ personalities: { ios: new EchoPersonality() }, pairRecordDir: dir });
    phones.forEach((phone, i) => {
      endpoint.addPhone(phone);
      phone.plug(`1-1.4.${i + 2}`);
    });
    port = (await endpoint.listen({ tcp: { port: 0 } })).tcp?.port ?? 0;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await endpoint.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists only phones behind usbmux, with the properties usbmuxd reports', async () => {
    const c = client();
    c.send(usbmuxRequests.listDevices(), 5);
    const reply = await c.next();
    expect(reply.DeviceList).toEqual([
      {
        MessageType: 'Attached',
        DeviceID: 1,
        Properties: {
          ConnectionSpeed: 480_000_000,
          ConnectionType: 'USB',
          DeviceID: 1,
          LocationID: locationIdOf('1-1.4.2'),
          ProductID: 0x12a8,
          SerialNumber: phones[0].identity.udid,
        },
      },
    ]);
    expect(locationIdOf('1-1.4.2')).toBe(0x01142000);
  });

  it('Listen: Result 0, Attached for present phones, then Detached and a new DeviceID per attachment', async () => {
    const c = client();
    c.send(usbmuxRequests.listen(), 9);
    expect(resultNumber(await c.next())).toBe(UsbmuxResult.Ok);
    expect(decodeEvent(await c.next())).toMatchObject({ type: 'attached', device: { deviceId: 1 } });
    phones[0].unplug();
    expect(decodeEvent(await c.next())).toEqual({ type: 'detached', deviceId: 1 });
    phones[0].plug('1-1.4.2');
    expect(decodeEvent(await c.next())).toMatchObject({
      type: 'attached',
      device: { deviceId: 2, serialNumber: phones[0].identity.udid },
    });
  });

  it('Connect pipes the socket to the device port (bytes sent with Connect included) until the phone leaves', async () => {
    const c = client();
    // The request and the first payload bytes in one write: nothing may be lost or misframed.
    c.socket.write(
      Buffer.concat([encodeUsbmuxPlist(3, usbmuxRequests.connect(1, 7000)), Buffer.from('hello ')]),
    );
    expect(resultNumber(await c.next())).toBe(UsbmuxResult.Ok);
    c.pipe();
    c.socket.write('world');
    await c.until(() => c.raw === 'HELLO WORLD');
    phones[0].unplug();
    await c.until(() => c.closed);
  });

  it('refuses closed ports (3), unknown devices (2) and answers unknown requests (1) without closing', async () => {
    const refused = client();
    refused.send(usbmuxRequests.connect(1, 62078));
    expect(resultNumber(await refused.next())).toBe(UsbmuxResult.ConnectionRefused);
    const unknown = client();
    unknown.send(usbmuxRequests.connect(42, 7000));
    expect(resultNumber(await unknown.next())).toBe(UsbmuxResult.BadDevice);
    const odd = client();
    odd.send({ MessageType: 'Frobnicate' });
    expect(resultNumber(await odd.next())).toBe(UsbmuxResult.BadCommand);
    odd.send(usbmuxRequests.listDevices());
    expect((await odd.next()).DeviceList).toHaveLength(1);
  });

  it('closes a client that sends a malformed plist or a frame of the binary protocol, after an error Result', async () => {
    const bad = client();
    bad.send({ NoMessageType: true }, 4);
    expect(resultNumber(await bad.next())).toBe(UsbmuxResult.BadCommand);
    await bad.until(() => bad.closed);

    const binary = client();
    const header = Buffer.alloc(16);
    header.writeUInt32LE(16, 0);
    header.writeUInt32LE(0, 4);
    header.writeUInt32LE(3, 8);
    header.writeUInt32LE(6, 12);
    binary.socket.write(header);
    expect(resultNumber(await binary.next())).toBe(UsbmuxResult.BadVersion);
    await binary.until(() => binary.closed);
  });

  it('keeps pair records and the BUID (in memory and in its directory), and tells listeners about pairing', async () => {
    const udid = phones[0].identity.udid;
    const listener = client();
    listener.send(usbmuxRequests.listen());
    await listener.next();
    await listener.next();

    const c = client();
    c.send(usbmuxRequests.readPairRecord(udid));
    expect(resultNumber(await c.next())).toBe(UsbmuxResult.BadDevice);
    c.send(usbmuxRequests.savePairRecord(udid, Buffer.from('<plist/>'), 1));
    expect(resultNumber(await c.next())).toBe(UsbmuxResult.Ok);
    expect(decodeEvent(await listener.next())).toEqual({ type: 'paired', deviceId: 1 });
    c.send(usbmuxRequests.readPairRecord(udid));
    expect(Buffer.from((await c.next()).PairRecordData as Uint8Array).toString()).toBe('<plist/>');
    expect(existsSync(path.join(dir, `${udid}.plist`))).toBe(true);

    c.send(usbmuxRequests.readBuid());
    const buid = (await c.next()).BUID;
    expect(buid).toMatch(/^[0-9A-F-]{36}$/);
    c.send({ MessageType: 'ListListeners' });
    expect((await c.next()).ListenerList).toHaveLength(1);

    // A new endpoint over the same directory knows the record and the BUID.
    const again = new SimUsbmuxd({ personalities: {}, pairRecordDir: dir });
    await again.pairRecords.open();
    expect(again.pairRecords.buid).toBe(buid);
    expect((await again.pairRecords.read(udid))?.toString()).toBe('<plist/>');

    c.send(usbmuxRequests.deletePairRecord(udid));
    expect(resultNumber(await c.next())).toBe(UsbmuxResult.Ok);
    expect(existsSync(path.join(dir, `${udid}.plist`))).toBe(false);
    c.send(usbmuxRequests.readPairRecord('../../etc/passwd'));
    expect(resultNumber(await c.next())).toBe(UsbmuxResult.BadCommand);
  });
});
