// Acceptance (simulator #6), behind usbmux Connect: a malformed plist or an oversized length
// prefix sent to lockdownd (a phone in iOS) or restored (a phone in the restore ramdisk) gets an
// `Error` reply, then the connection closes; a request queued behind the bad one is not answered.
// The same phone answers the next connection, and the other phones are unaffected: the real
// `idevice_id -l` and `ideviceinfo` still work. (The usbmuxd socket itself is covered in
// sim-usbmux-tools.test.ts.)
import type { Duplex } from 'node:stream';
import {
  createPhone,
  createSimUsbmuxd,
  SeededRandom,
  SimClock,
  type SimPhone,
  type SimUsbmuxd,
} from '@bench/device-sim';
import {
  decodePlistDict,
  encodeBigEndianLengthPrefixed,
  encodePlistXml,
  FrameDecoder,
  framePayload,
  LOCKDOWN_PORT,
  LOCKDOWN_SERVICE_TYPE,
  plistServiceFormat,
  RESTORED_SERVICE_TYPE,
  type PlistDict,
} from '@bench/protocols';
import { LockdownClient, RestoredClient, UsbmuxClient } from '@bench/usb-transport';
import { runProcess, tempDir, type RunResult } from '@bench/testing';

jest.setTimeout(60_000);

/** A frame whose length is right but whose plist stops in the middle of a tag. */
const TRUNCATED_PLIST = (() => {
  const xml = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Request</key><str',
  );
  const length = Buffer.alloc(4);
  length.writeUInt32BE(xml.length);
  return Buffer.concat([length, xml]);
})();

/** A length prefix of 2 GiB (the services accept 32 MiB), followed by a few bytes. */
const OVERSIZED = Buffer.concat([Buffer.from([0x7f, 0xff, 0xff, 0xff]), Buffer.from('<?xml')]);

/** A well-formed plist dict that is not a request (no `Request` name). */
const NOT_A_REQUEST = encodeBigEndianLengthPrefixed(encodePlistXml({ Label: 'bench', Key: 'ProductType' }));

const queryType = encodeBigEndianLengthPrefixed(encodePlistXml({ Label: 'bench', Request: 'QueryType' }));

describe('malformed requests behind usbmux Connect', () => {
  const clock = new SimClock(40);
  const random = new SeededRandom(4_062_078);
  const records = tempDir('bench-sim-malformed-');
  let endpoint: SimUsbmuxd;
  let usbmux: UsbmuxClient;
  let address: string;
  let normal: SimPhone;
  let bystander: SimPhone;
  let restore: SimPhone;
  let phones: SimPhone[];

  beforeAll(async () => {
    normal = createPhone({ productType: 'iPhone10,1', productVersion: '16.7.10' }, clock, random);
    bystander = createPhone({ productType: 'iPhone9,1', productVersion: '15.8.3' }, clock, random);
    restore = createPhone({ productType: 'iPhone10,1', stage: 'restore-ramdisk' }, clock, random);
    phones = [normal, bystander, restore];
    endpoint = createSimUsbmuxd({ pairRecordDir: records.dir });
    phones.forEach((phone, index) => {
      endpoint.addPhone(phone);
      phone.plug(`1-1.${index + 1}`);
    });
    const bound = await endpoint.listen({ tcp: { host: '127.0.0.1', port: 0 } });
    address = bound.socketAddress;
    usbmux = UsbmuxClient.forAddress(address);
  });

  afterAll(async () => {
    await endpoint.close();
    records.remove();
  });

  async function deviceIdOf(phone: SimPhone): Promise<number> {
    const device = (await usbmux.listDevices()).find((d) => d.serialNumber === phone.identity.udid);
    if (!device) throw new Error(`${phone.identity.udid} is not listed by usbmuxd`);
    return device.deviceId;
  }

  /** Connects to the phone's port through usbmuxd, writes `bytes`, and collects replies until the phone closes. */
  async function exchange(
    phone: SimPhone,
    bytes: Buffer,
  ): Promise<{ replies: PlistDict[]; closed: boolean }> {
    const socket: Duplex = await usbmux.connect(await deviceIdOf(phone), LOCKDOWN_PORT);
    const decoder = new FrameDecoder(plistServiceFormat());
    const replies: PlistDict[] = [];
    return new Promise((resolve, reject) => {
      // Generous: a phone that keeps the connection open is the failure this waits for.
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ replies, closed: false });
      }, 10_000);
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) replies.push(decodePlistDict(framePayload(frame)));
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ replies, closed: true });
      });
      socket.on('error', reject);
      socket.resume();
      socket.write(bytes);
    });
  }

  function tool(command: string, args: string[]): Promise<RunResult> {
    return runProcess(command, args, {
      env: { PATH: process.env.PATH, USBMUXD_SOCKET_ADDRESS: address },
      timeoutMs: 20_000,
    });
  }

  it.each([
    ['a truncated plist', TRUNCATED_PLIST],
    ['an oversized length prefix', OVERSIZED],
    ['a plist that is not a request', NOT_A_REQUEST],
  ])('lockdownd answers %s with an Error and closes the connection', async (_what, bytes) => {
    // The valid QueryType after the bad frame must stay unanswered: the connection is over.
    const { replies, closed } = await exchange(normal, Buffer.concat([bytes, queryType]));
    expect(closed).toBe(true);
    expect(replies).toEqual([{ Error: 'InvalidRequest' }]);

    // The phone's lockdownd is fine: a new connection is served.
    const lockdown = await LockdownClient.open(usbmux, await deviceIdOf(normal));
    try {
      expect(await lockdown.queryType()).toBe(LOCKDOWN_SERVICE_TYPE);
    } finally {
      lockdown.close();
    }
  });

  it.each([
    ['a truncated plist', TRUNCATED_PLIST],
    ['an oversized length prefix', OVERSIZED],
  ])('restored answers %s with an Error and closes the connection', async (_what, bytes) => {
    const { replies, closed } = await exchange(restore, Buffer.concat([bytes, queryType]));
    expect(closed).toBe(true);
    expect(replies).toEqual([{ Error: 'InvalidRequest' }]);

    const restored = await RestoredClient.open(usbmux, await deviceIdOf(restore));
    try {
      expect((await restored.queryType()).type).toBe(RESTORED_SERVICE_TYPE);
    } finally {
      restored.close();
    }
    expect(restore.stage).toBe('restore-ramdisk');
  });

  it('leaves the other phones alone: idevice_id -l and ideviceinfo still work', async () => {
    const list = await tool('idevice_id', ['-l']);
    expect(list.code).toBe(0);
    expect(
      list.stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .sort(),
    ).toEqual(phones.map((p) => p.identity.udid).sort());
    for (const [phone, productType] of [
      [bystander, 'iPhone9,1'],
      [normal, 'iPhone10,1'],
    ] as const) {
      const info = await tool('ideviceinfo', ['-u', phone.identity.udid, '-k', 'ProductType']);
      expect(info.stderr).toBe('');
      expect(info.code).toBe(0);
      expect(info.stdout.trim()).toBe(productType);
    }
    expect(phones.map((p) => p.stage)).toEqual(['ios', 'ios', 'restore-ramdisk']);
  });
});
