import { Duplex, PassThrough } from 'node:stream';
import {
  decodeUsbmuxPacket,
  encodeAttached,
  encodeUsbmuxPlist,
  FrameDecoder,
  resultBody,
  usbmuxFormat,
  usbmuxRequests,
  type UsbmuxPacket,
} from '@bench/protocols';
import { UsbmuxClient } from './usbmux-client';
import { UsbmuxConnection } from './usbmux-connection';

/** Two in-memory ends: what one writes the other reads. */
function duplexPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const ours = Duplex.from({ readable: bToA, writable: aToB });
  const theirs = Duplex.from({ readable: aToB, writable: bToA });
  // destroying one end tears the shared pipes down under the other with an AbortError
  theirs.on('error', () => undefined);
  return [ours, theirs];
}

/** The daemon end: collects request packets. */
function daemonEnd(stream: Duplex): { packets: UsbmuxPacket[]; next(): Promise<UsbmuxPacket> } {
  const decoder = new FrameDecoder(usbmuxFormat());
  const packets: UsbmuxPacket[] = [];
  const waiters: Array<(p: UsbmuxPacket) => void> = [];
  stream.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const packet = decodeUsbmuxPacket(frame);
      const waiter = waiters.shift();
      if (waiter) waiter(packet);
      else packets.push(packet);
    }
  });
  return {
    packets,
    next: () => {
      const queued = packets.shift();
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

describe('UsbmuxConnection', () => {
  it('matches replies to requests by tag, whatever their order', async () => {
    const [ours, theirs] = duplexPair();
    const daemon = daemonEnd(theirs);
    const connection = new UsbmuxConnection(ours);
    const first = connection.request(usbmuxRequests.readBuid(), 1000);
    const second = connection.request(usbmuxRequests.listDevices(), 1000);
    const a = await daemon.next();
    const b = await daemon.next();
    expect([a.header.tag, b.header.tag]).toEqual([1, 2]);
    theirs.write(encodeUsbmuxPlist(b.header.tag, { DeviceList: [] }));
    theirs.write(encodeUsbmuxPlist(a.header.tag, { BUID: 'X' }));
    await expect(first).resolves.toEqual({ BUID: 'X' });
    await expect(second).resolves.toEqual({ DeviceList: [] });
    connection.close();
  });

  it('times out one request with a typed error', async () => {
    const [ours, theirs] = duplexPair();
    daemonEnd(theirs);
    const connection = new UsbmuxConnection(ours);
    await expect(connection.request(usbmuxRequests.listDevices(), 30)).rejects.toMatchObject({
      kind: 'timeout',
      failureClass: 'host-setup',
      request: 'ListDevices',
    });
    connection.close();
  });

  it('hands over the socket after Connect with the device bytes that came in the same chunk', async () => {
    const [ours, theirs] = duplexPair();
    const daemon = daemonEnd(theirs);
    const connection = new UsbmuxConnection(ours);
    const piped = connection.connectPipe(usbmuxRequests.connect(1, 12345), 1000);
    const request = await daemon.next();
    expect(request.body).toMatchObject({ MessageType: 'Connect', DeviceID: 1, PortNumber: 14640 });
    // the device spoke first: its bytes share the chunk with the Result (and look like a huge frame)
    theirs.write(
      Buffer.concat([encodeUsbmuxPlist(request.header.tag, resultBody(0)), Buffer.from('ffffffffDEVICE')]),
    );
    const pipe = await piped;
    theirs.write(Buffer.from('-MORE'));
    const received: Buffer[] = [];
    pipe.on('data', (chunk: Buffer) => received.push(chunk));
    pipe.resume(); // handed over paused, so nothing is lost before a reader attaches
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Buffer.concat(received).toString()).toBe('ffffffffDEVICE-MORE');
  });

  it('turns a refused Connect into a typed result error', async () => {
    const [ours, theirs] = duplexPair();
    const daemon = daemonEnd(theirs);
    const connection = new UsbmuxConnection(ours);
    const piped = connection.connectPipe(usbmuxRequests.connect(1, 1082), 1000);
    theirs.write(encodeUsbmuxPlist((await daemon.next()).header.tag, resultBody(3)));
    await expect(piped).rejects.toMatchObject({
      kind: 'result',
      resultNumber: 3,
      failureClass: 'transient-usb',
    });
  });

  it('fails pending requests when the daemon closes, or sends garbage', async () => {
    const [ours, theirs] = duplexPair();
    daemonEnd(theirs);
    const connection = new UsbmuxConnection(ours);
    const pending = connection.request(usbmuxRequests.listDevices(), 1000);
    theirs.end();
    await expect(pending).rejects.toMatchObject({ kind: 'connection-closed', failureClass: 'transient-usb' });

    const [ours2, theirs2] = duplexPair();
    daemonEnd(theirs2);
    const broken = new UsbmuxConnection(ours2);
    const pending2 = broken.request(usbmuxRequests.listDevices(), 1000);
    theirs2.write(Buffer.from('ffffffff000000000000000000000000', 'hex'));
    await expect(pending2).rejects.toMatchObject({ kind: 'malformed' });
  });
});

describe('UsbmuxClient.listen (in memory)', () => {
  it('yields Attached/Detached/Paired events and ends cleanly on close', async () => {
    const [ours, theirs] = duplexPair();
    const daemon = daemonEnd(theirs);
    const client = new UsbmuxClient(async () => ours);
    const listening = client.listen();
    const listen = await daemon.next();
    expect(listen.body.MessageType).toBe('Listen');
    const device = { deviceId: 4, serialNumber: 'UDID-4', connectionType: 'USB' };
    theirs.write(
      Buffer.concat([
        encodeUsbmuxPlist(listen.header.tag, resultBody(0)),
        encodeUsbmuxPlist(0, encodeAttached(device)),
        encodeUsbmuxPlist(0, { MessageType: 'Paired', DeviceID: 4 }),
        encodeUsbmuxPlist(0, { MessageType: 'Detached', DeviceID: 4 }),
      ]),
    );
    const events = await listening;
    const seen = [];
    for await (const event of events) {
      seen.push(event);
      if (seen.length === 3) events.close();
    }
    expect(seen).toEqual([
      { type: 'attached', device },
      { type: 'paired', deviceId: 4 },
      { type: 'detached', deviceId: 4 },
    ]);
    expect(ours.destroyed).toBe(true);
  });

  it('fails the iteration when usbmuxd goes away, so the caller listens again', async () => {
    const [ours, theirs] = duplexPair();
    const daemon = daemonEnd(theirs);
    const listening = new UsbmuxClient(async () => ours).listen();
    theirs.write(encodeUsbmuxPlist((await daemon.next()).header.tag, resultBody(0)));
    const events = await listening;
    const next = events.next();
    theirs.end();
    await expect(next).rejects.toMatchObject({ kind: 'connection-closed' });
  });

  it('ends when the signal aborts', async () => {
    const [ours, theirs] = duplexPair();
    const daemon = daemonEnd(theirs);
    const controller = new AbortController();
    const listening = new UsbmuxClient(async () => ours).listen({ signal: controller.signal });
    theirs.write(encodeUsbmuxPlist((await daemon.next()).header.tag, resultBody(0)));
    const events = await listening;
    const next = events.next();
    controller.abort();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });
});
