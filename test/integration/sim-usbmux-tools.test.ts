// Acceptance: unmodified libimobiledevice tools (Debian's libimobiledevice-utils 1.3.0 with
// libusbmuxd 2.0.2) talk to the simulated usbmuxd and the lockdownd behind it, over
// USBMUXD_SOCKET_ADDRESS=127.0.0.1:<port>, on a small bench of three simulated phones.
import net from 'node:net';
import {
  SeededRandom,
  SimClock,
  createPhone,
  createSimUsbmuxd,
  type SimPhone,
  type SimUsbmuxd,
} from '@bench/device-sim';
import {
  FrameDecoder,
  UsbmuxResult,
  decodePlist,
  decodeUsbmuxPacket,
  encodeUsbmuxPlist,
  isPlistDict,
  resultNumber,
  usbmuxFormat,
  usbmuxRequests,
} from '@bench/protocols';
import { runProcess, tempDir, waitFor, type RunResult } from '@bench/testing';

jest.setTimeout(60_000);

describe('simulated usbmuxd with libimobiledevice tools', () => {
  const clock = new SimClock(40);
  const random = new SeededRandom(20260101);
  let phones: SimPhone[];
  let endpoint: SimUsbmuxd;
  let address: string;
  let tcpPort: number;
  const records = tempDir('bench-sim-pair-');
  const clientErrors: string[] = [];

  beforeAll(async () => {
    phones = [
      createPhone({ productType: 'iPhone10,1', batteryLevel: 67, productVersion: '16.7.10' }, clock, random),
      createPhone({ productType: 'iPhone9,1', batteryLevel: 41, productVersion: '15.8.3' }, clock, random),
      createPhone({ productType: 'iPhone10,1', batteryLevel: 88, productVersion: '16.7.10' }, clock, random),
    ];
    endpoint = createSimUsbmuxd({ pairRecordDir: records.dir });
    endpoint.on('client-error', (error) => clientErrors.push(error.message));
    phones.forEach((phone, index) => {
      endpoint.addPhone(phone);
      phone.plug(`1-1.${index + 1}`);
    });
    const bound = await endpoint.listen({ tcp: { host: '127.0.0.1', port: 0 } });
    address = bound.socketAddress;
    tcpPort = bound.tcp?.port ?? 0;
  });

  afterAll(async () => {
    await endpoint.close();
    records.remove();
  });

  function tool(command: string, args: string[]): Promise<RunResult> {
    return runProcess(command, args, {
      env: { PATH: process.env.PATH, USBMUXD_SOCKET_ADDRESS: address },
      timeoutMs: 20_000,
    });
  }

  async function listedUdids(): Promise<string[]> {
    const result = await tool('idevice_id', ['-l']);
    expect(result.code).toBe(0);
    return result.stdout.split('\n').filter((line) => line.trim() !== '');
  }

  it('idevice_id -l prints the three UDIDs', async () => {
    expect((await listedUdids()).sort()).toEqual(phones.map((p) => p.identity.udid).sort());
  });

  it('ideviceinfo prints the simulated ProductType, UniqueChipID and ProductVersion', async () => {
    const phone = phones[1];
    const udid = phone.identity.udid;
    const value = async (key: string) => {
      const result = await tool('ideviceinfo', ['-u', udid, '-k', key]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return result.stdout.trim();
    };
    expect(await value('ProductType')).toBe('iPhone9,1');
    expect(await value('UniqueChipID')).toBe(phone.identity.ecid.toString());
    expect(await value('ProductVersion')).toBe('15.8.3');
    expect(await value('HardwareModel')).toBe('D10AP');
  });

  it('after idevicepair pair, ideviceinfo reads the battery domain', async () => {
    const phone = phones[0];
    const udid = phone.identity.udid;
    const paired: string[] = [];
    phone.on('note', (kind) => kind === 'paired' && paired.push(kind));

    const pair = await tool('idevicepair', ['-u', udid, 'pair']);
    expect(pair.stdout).toContain(`SUCCESS: Paired with device ${udid}`);
    expect(paired).toHaveLength(1);
    // The host's pair record went through SavePairRecord into the endpoint (and its directory).
    const record = await endpoint.pairRecords.read(udid);
    expect(record).toBeDefined();
    const decoded = decodePlist(record as Buffer);
    expect(isPlistDict(decoded) && decoded.HostID).toBeTruthy();

    const validate = await tool('idevicepair', ['-u', udid, 'validate']);
    expect(validate.stdout).toContain('SUCCESS: Validated pairing');

    const battery = await tool('ideviceinfo', [
      '-u',
      udid,
      '-q',
      'com.apple.mobile.battery',
      '-k',
      'BatteryCurrentCapacity',
    ]);
    expect(battery.code).toBe(0);
    expect(battery.stdout.trim()).toBe('67');

    phone.battery.level = 71;
    const again = await tool('ideviceinfo', [
      '-u',
      udid,
      '-q',
      'com.apple.mobile.battery',
      '-k',
      'BatteryCurrentCapacity',
    ]);
    expect(again.stdout.trim()).toBe('71');
  });

  it('idevicediagnostics ioregentry AppleSmartBattery shows the battery values', async () => {
    const phone = phones[0];
    phone.battery.voltageMv = 4_012;
    phone.battery.temperatureCentiC = 3_145;
    const result = await tool('idevicediagnostics', [
      '-u',
      phone.identity.udid,
      'ioregentry',
      'AppleSmartBattery',
    ]);
    expect(result.code).toBe(0);
    const printed = decodePlist(Buffer.from(result.stdout));
    if (!isPlistDict(printed) || !isPlistDict(printed.IORegistry))
      throw new Error(`unexpected output: ${result.stdout}`);
    const registry = printed.IORegistry;
    expect(registry.CurrentCapacity).toBe(71);
    expect(registry.Voltage).toBe(4_012);
    expect(registry.Temperature).toBe(3_145);
    expect(registry.CycleCount).toBe(phone.battery.cycleCount);
    expect(registry.IsCharging).toBe(phone.battery.charging);
    expect(registry.ExternalConnected).toBe(true);
    expect(registry.MaxCapacity).toBe(100);
  });

  it('answers a malformed frame or plist with an error Result and closes only that client', async () => {
    const malformedPlist = Buffer.concat([
      headerFor(60, 7),
      Buffer.from('<?xml version="1.0"?><plist><dict><key>MessageType</key><str'),
    ]).subarray(0, 60);
    const oversized = headerFor(0x7fffffff, 9);
    for (const bytes of [malformedPlist, oversized]) {
      const { replies, closed } = await exchange(tcpPort, bytes);
      expect(closed).toBe(true);
      expect(replies).toHaveLength(1);
      expect(resultNumber(replies[0])).toBe(UsbmuxResult.BadCommand);
    }
    expect(clientErrors.length).toBeGreaterThanOrEqual(2);

    // An unknown request is answered (Result 1) without closing the connection.
    const unknown = await exchange(tcpPort, encodeUsbmuxPlist(3, { MessageType: 'MakeCoffee' }), 300);
    expect(unknown.closed).toBe(false);
    expect(resultNumber(unknown.replies[0])).toBe(UsbmuxResult.BadCommand);

    expect((await listedUdids()).sort()).toEqual(phones.map((p) => p.identity.udid).sort());
  });

  it('answers Connect with Result 3 for a closed device port and 2 for an unknown device', async () => {
    const list = await exchange(tcpPort, encodeUsbmuxPlist(1, usbmuxRequests.listDevices()), 300);
    const deviceList = list.replies[0].DeviceList;
    if (!Array.isArray(deviceList) || !isPlistDict(deviceList[0])) throw new Error('no DeviceList');
    const deviceId = deviceList[0].DeviceID as number;
    const closedPort = await exchange(
      tcpPort,
      encodeUsbmuxPlist(2, usbmuxRequests.connect(deviceId, 12345)),
      300,
    );
    expect(resultNumber(closedPort.replies[0])).toBe(UsbmuxResult.ConnectionRefused);
    const unknownDevice = await exchange(
      tcpPort,
      encodeUsbmuxPlist(3, usbmuxRequests.connect(9999, 62078)),
      300,
    );
    expect(resultNumber(unknownDevice.replies[0])).toBe(UsbmuxResult.BadDevice);
  });

  it('ideviceenterrecovery makes the phone leave usbmux and come back in recovery with the same ECID', async () => {
    const phone = phones[2];
    const udid = phone.identity.udid;
    const ecid = phone.identity.ecid;
    const result = await tool('ideviceenterrecovery', [udid]);
    expect(result.stdout).toContain('Device is successfully switching to recovery mode');
    expect(result.stdout).not.toContain('Failed to enter recovery mode');

    expect(await listedUdids()).not.toContain(udid);
    await waitFor(() => phone.stage === 'iboot', 10_000, 'the phone to reach iBoot');
    expect(phone.mode).toBe('recovery');
    expect(phone.presence).toBe('usb');
    expect(phone.identity.ecid).toBe(ecid);
    expect(phone.nvram.get('auto-boot')).toBe('false');
    expect((await listedUdids()).sort()).toEqual([phones[0], phones[1]].map((p) => p.identity.udid).sort());
  });
});

function headerFor(length: number, tag: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32LE(length, 0);
  header.writeUInt32LE(1, 4);
  header.writeUInt32LE(8, 8);
  header.writeUInt32LE(tag, 12);
  return header;
}

/** Sends raw bytes to the endpoint and collects decoded replies until it closes (or `quietMs` passes). */
function exchange(
  port: number,
  bytes: Buffer,
  quietMs = 3_000,
): Promise<{ replies: ReturnType<typeof decodeUsbmuxPacket>['body'][]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const decoder = new FrameDecoder(usbmuxFormat());
    const replies: ReturnType<typeof decodeUsbmuxPacket>['body'][] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ replies, closed: false });
    }, quietMs);
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) replies.push(decodeUsbmuxPacket(frame).body);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ replies, closed: true });
    });
    socket.on('error', reject);
    socket.write(bytes);
  });
}
