// The real libimobiledevice tools (libusbmuxd 2.0.2) against a usbmuxd endpoint built from our
// codecs: the captured fixture is what idevice_id really sends, and what our codec writes back
// is what idevice_id understands.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  decodeUsbmuxPacket,
  encodeAttached,
  encodeUsbmuxPlist,
  FrameDecoder,
  usbmuxFormat,
  type UsbmuxPacket,
} from '@bench/protocols';
import { runProcess } from '@bench/testing';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'usbmux', 'idevice_id-list-devices.bin');

interface Endpoint {
  address: string;
  requests: UsbmuxPacket[];
  raw: Buffer[];
  close(): Promise<void>;
}

/** A usbmuxd stand-in that answers ListDevices with `devices` and records what it got. */
async function usbmuxEndpoint(devices: Parameters<typeof encodeAttached>[0][]): Promise<Endpoint> {
  const requests: UsbmuxPacket[] = [];
  const raw: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const decoder = new FrameDecoder(usbmuxFormat());
    socket.on('data', (chunk: Buffer) => {
      raw.push(chunk);
      for (const frame of decoder.push(chunk)) {
        const packet = decodeUsbmuxPacket(frame);
        requests.push(packet);
        if (packet.body.MessageType === 'ListDevices') {
          socket.write(encodeUsbmuxPlist(packet.header.tag, { DeviceList: devices.map(encodeAttached) }));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    requests,
    raw,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('libimobiledevice tools against our usbmux codec', () => {
  it('idevice_id -l sends exactly the captured fixture bytes', async () => {
    const endpoint = await usbmuxEndpoint([]);
    try {
      const run = await runProcess('idevice_id', ['-l'], {
        env: { ...process.env, USBMUXD_SOCKET_ADDRESS: endpoint.address },
        timeoutMs: 15_000,
      });
      expect(run.code).toBe(0);
      const fixture = readFileSync(FIXTURE);
      expect(Buffer.concat(endpoint.raw).subarray(0, fixture.length).equals(fixture)).toBe(true);
      expect(endpoint.requests[0].header).toEqual({ length: fixture.length, version: 1, message: 8, tag: 1 });
      expect(endpoint.requests[0].body).toEqual({
        ClientVersionString: 'libusbmuxd 2.0.2',
        MessageType: 'ListDevices',
        ProgName: 'idevice_id',
        kLibUSBMuxVersion: 3,
      });
    } finally {
      await endpoint.close();
    }
  });

  it('idevice_id -l prints the UDIDs of the device records our codec writes', async () => {
    const endpoint = await usbmuxEndpoint([
      { deviceId: 1, serialNumber: '00008015-0000000000001234', connectionType: 'USB', productId: 0x12a8 },
      {
        deviceId: 2,
        serialNumber: '00008030-000A1B2C3D4E5F60',
        connectionType: 'USB',
        connectionSpeed: 480000000,
      },
    ]);
    try {
      const run = await runProcess('idevice_id', ['-l'], {
        env: { ...process.env, USBMUXD_SOCKET_ADDRESS: endpoint.address },
        timeoutMs: 15_000,
      });
      expect(run.code).toBe(0);
      expect(run.stdout.trim().split('\n')).toEqual([
        '00008015-0000000000001234',
        '00008030-000A1B2C3D4E5F60',
      ]);
    } finally {
      await endpoint.close();
    }
  });
});
