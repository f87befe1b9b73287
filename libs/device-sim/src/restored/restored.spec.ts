import { Duplex, PassThrough } from 'node:stream';
import {
  FrameDecoder,
  decodeFdrConnPort,
  decodeFdrMessage,
  decodePlistDict,
  encodeBigEndianLengthPrefixed,
  encodeFdrHandshake,
  encodePlistXml,
  fdrMessageFormat,
  framePayload,
  isBinaryPlist,
  plistServiceFormat,
  type PlistDict,
} from '@bench/protocols';
import { UNTHROTTLED } from '../bench-hooks';
import { NO_FAULTS } from '../faults/fault-types';
import { createPhone } from '../phone/phone-factory';
import { SeededRandom } from '../time/random';
import { SimClock } from '../time/sim-clock';
import { MuxDevice } from '../usbmux/mux-device';
import { RestoredPersonality } from './restored';

function streamPair(): [Duplex, Duplex] {
  const toDevice = new PassThrough();
  const toHost = new PassThrough();
  const ends: [Duplex, Duplex] = [
    Duplex.from({ readable: toDevice, writable: toHost }),
    Duplex.from({ readable: toHost, writable: toDevice }),
  ];
  for (const end of ends) end.on('error', () => undefined);
  return ends;
}

function restoreModePhone() {
  const phone = createPhone(
    { productType: 'iPhone10,1', stage: 'restore-ramdisk' },
    new SimClock(1000),
    new SeededRandom(2),
  );
  phone.plug('1-1.1');
  const device = new MuxDevice(1, phone, phone.enumeration, { faults: NO_FAULTS, link: UNTHROTTLED });
  new RestoredPersonality().attach(device);
  return { phone, device };
}

function restoredHost(device: MuxDevice) {
  const [deviceEnd, hostEnd] = streamPair();
  expect(device.ports.connect(62078, deviceEnd)).toBe(true);
  const frames = new FrameDecoder(plistServiceFormat());
  const replies: PlistDict[] = [];
  let wake: (() => void) | undefined;
  hostEnd.on('data', (chunk: Buffer) => {
    for (const frame of frames.push(chunk)) replies.push(decodePlistDict(framePayload(frame)));
    wake?.();
  });
  return async (request: PlistDict): Promise<PlistDict> => {
    hostEnd.write(encodeBigEndianLengthPrefixed(encodePlistXml({ Label: 'spec', ...request })));
    while (replies.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return replies.shift() as PlistDict;
  };
}

describe('simulated restored (probe answers idevicerestore 1.0.0 needs)', () => {
  it('QueryType carries an integer RestoreProtocolVersion, SerialNumber and an upper-case HardwareModel', async () => {
    const { phone, device } = restoreModePhone();
    const request = restoredHost(device);
    expect(await request({ Request: 'QueryType' })).toEqual({
      Type: 'com.apple.mobile.restored',
      RestoreProtocolVersion: 14,
      SerialNumber: phone.identity.serialNumber,
      HardwareModel: 'D20AP',
    });
    device.close();
  });

  it('QueryValue HardwareInfo answers under the key HardwareInfo; Goodbye answers Success', async () => {
    const { phone, device } = restoreModePhone();
    const request = restoredHost(device);
    const reply = await request({ Request: 'QueryValue', QueryKey: 'HardwareInfo' });
    expect(reply.HardwareInfo).toMatchObject({
      UniqueChipID: Number(phone.identity.ecid),
      ChipID: 0x8015,
      BoardID: 0x02,
      ProductionMode: true,
      SupportsImage4: true,
    });
    expect(await request({ Request: 'QueryValue', QueryKey: 'SavedDebugInfo' })).toEqual({
      SavedDebugInfo: {},
    });
    expect(await request({ Request: 'Goodbye' })).toEqual({ Result: 'Success' });
    // An idle connection is simply kept; another one works alongside it.
    const second = restoredHost(device);
    expect((await second({ Request: 'QueryType' })).Type).toBe('com.apple.mobile.restored');
    device.close();
  });

  it('answers the FDR BeginCtrl handshake on 1082 with a binary {ConnPort}', async () => {
    const { device } = restoreModePhone();
    const [deviceEnd, hostEnd] = streamPair();
    expect(device.ports.connect(1082, deviceEnd)).toBe(true);
    const frames = new FrameDecoder(fdrMessageFormat());
    const reply = new Promise<Buffer>((resolve) =>
      hostEnd.on('data', (chunk: Buffer) => {
        const [frame] = frames.push(chunk);
        if (frame) resolve(frame);
      }),
    );
    hostEnd.write(encodeFdrHandshake());
    const frame = await reply;
    expect(isBinaryPlist(framePayload(frame))).toBe(true);
    expect(decodeFdrConnPort(decodeFdrMessage(frame))).toBe(1083);
    const closed = new Promise<void>((resolve) => hostEnd.once('close', () => resolve()));
    device.close();
    await closed;
  });

  it('Reboot answers, then the phone reboots into recovery', async () => {
    const { phone, device } = restoreModePhone();
    const request = restoredHost(device);
    expect(await request({ Request: 'Reboot' })).toEqual({ Result: 'Success' });
    await new Promise<void>((resolve) => phone.once('stage', () => resolve()));
    expect(phone.stage).toBe('iboot');
    expect(phone.nvram.get('auto-boot')).toBe('false');
    device.close();
  });
});
