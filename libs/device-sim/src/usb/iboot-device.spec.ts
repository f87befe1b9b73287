// The iBoot device model driven directly, with no bus: the seam a umockdev bridge will use.
import { randomBytes } from 'node:crypto';
import {
  decodeUsbStringDescriptor,
  IBootRequest,
  parseIBootNonces,
  parseIBootSerial,
  planDfuUpload,
  stringDescriptorRequest,
} from '@bench/protocols';
import { UsbTransportError } from '@bench/usb-transport';
import { createPhone } from '../phone/phone-factory';
import type { BootStage, SimPhone } from '../phone/sim-phone';
import { SeededRandom } from '../time/random';
import { SimClock } from '../time/sim-clock';
import { IBootDevice, imageVerifierFor, derTotalLength } from './iboot-device';
import { personalizeForDevice } from './sim-images';
import { encodeSysfsDescriptors } from './usb-descriptors';
import type { SimControlSetup } from './usb-function';

const key = randomBytes(32);
const never = new AbortController().signal;

function phoneIn(stage: BootStage): SimPhone {
  const clock = new SimClock(1000);
  return createPhone(
    { productType: 'iPhone10,1', stage, ecid: 0x001a2b3c4d5e6f70n },
    clock,
    new SeededRandom(3),
  );
}

function image(phone: SimPhone, component: string, apNonce: Uint8Array = phone.apNonce): Buffer {
  const { model, ecid } = phone.identity;
  return personalizeForDevice({
    component,
    payload: randomBytes(5000),
    ecid,
    apNonce,
    cpid: model.cpid,
    bdid: model.bdid,
    key,
  });
}

function setup(
  base: { bmRequestType: number; bRequest: number; wValue: number; wIndex: number },
  wLength: number,
): SimControlSetup {
  return { ...base, wLength };
}

async function string(device: IBootDevice, index: number): Promise<string> {
  return decodeUsbStringDescriptor(
    await device.control(setup(stringDescriptorRequest(index), 255), new Uint8Array(0), never),
  );
}

async function status(device: IBootDevice): Promise<number> {
  const bytes = await device.control(setup(IBootRequest.dfuGetStatus, 6), new Uint8Array(0), never);
  return bytes[4];
}

describe('IBootDevice in DFU', () => {
  it('shows the DFU serial (SRTG) and the nonces it will check', async () => {
    const phone = phoneIn('secure-rom');
    const device = new IBootDevice({ phone, verifyImage: imageVerifierFor(key) });
    expect(device.descriptor).toMatchObject({ vendorId: 0x05ac, productId: 0x1227, serialNumberIndex: 4 });
    const serial = parseIBootSerial(await string(device, 4));
    expect(serial).toMatchObject({
      cpid: 0x8015,
      bdid: 0x02,
      ecid: 0x001a2b3c4d5e6f70n,
      ibfl: 0x3c,
      srtg: expect.stringMatching(/^iBoot-/),
    });
    expect(serial.srnm).toBeUndefined();
    expect(Buffer.from(parseIBootNonces(await string(device, 1)).apNonce ?? [])).toEqual(phone.apNonce);
    expect(await string(device, 3)).toBe('Apple Mobile Device (DFU Mode)');
  });

  it('walks dfuIDLE → DNLOAD-SYNC → DNLOAD-IDLE → MANIFEST-SYNC → MANIFEST → WAIT-RESET, then hands over to iBSS', async () => {
    const phone = phoneIn('secure-rom');
    const device = new IBootDevice({ phone, verifyImage: imageVerifierFor(key), reenumerationMs: 1 });
    const notes: string[] = [];
    phone.on('note', (kind) => notes.push(kind));
    const plan = planDfuUpload(image(phone, 'iBSS'));
    expect(await status(device)).toBe(2);
    for (const block of plan.blocks) {
      await device.control(setup(IBootRequest.dfuDnload(block.wValue), block.data.length), block.data, never);
      expect(await status(device)).toBe(5);
    }
    await device.control(setup(IBootRequest.dfuDnload(plan.blockCount), 0), new Uint8Array(0), never);
    expect(await status(device)).toBe(7);
    expect(await status(device)).toBe(8);
    expect(notes).toContain('image-accepted');
    const reboot = new Promise((resolve) => phone.once('stage', resolve));
    device.reset();
    expect(await reboot).toBe('ibss');
  });

  it('goes to dfuERROR on a block out of order, and CLRSTATUS brings it back', async () => {
    const device = new IBootDevice({ phone: phoneIn('secure-rom'), verifyImage: imageVerifierFor(key) });
    const error = await device
      .control(setup(IBootRequest.dfuDnload(3), 4), Buffer.alloc(4), never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsbTransportError);
    expect((error as UsbTransportError).kind).toBe('pipe');
    expect(
      Array.from(await device.control(setup(IBootRequest.dfuGetState, 1), new Uint8Array(0), never)),
    ).toEqual([10]);
    await device.control(setup(IBootRequest.dfuClrStatus, 0), new Uint8Array(0), never);
    expect(await status(device)).toBe(2);
  });

  it('stalls iBoot commands: SecureROM does not take them', async () => {
    const device = new IBootDevice({ phone: phoneIn('secure-rom'), verifyImage: imageVerifierFor(key) });
    await expect(
      device.control(setup(IBootRequest.command, 7), Buffer.from('reboot\0'), never),
    ).rejects.toMatchObject({ kind: 'pipe' });
  });
});

describe('IBootDevice in recovery', () => {
  it('has the recovery layout: 0x1281, SRNM, interface 1 alternate 1 with the console endpoint', () => {
    const device = new IBootDevice({ phone: phoneIn('iboot'), verifyImage: imageVerifierFor(key) });
    expect(device.descriptor.productId).toBe(0x1281);
    const bytes = encodeSysfsDescriptors(device.descriptor);
    // The device descriptor of the recovery record in shared/fixtures/usb/apple-recovery-1281.umockdev.
    expect(bytes.subarray(0, 18).toString('hex')).toBe('1201000200000040ac058112000102030401');
    expect(bytes.includes(Buffer.from([7, 5, 0x04, 2, 0, 2, 0]))).toBe(true);
    expect(bytes.includes(Buffer.from([9, 4, 1, 1, 1]))).toBe(true);
    expect(bytes.includes(Buffer.from([7, 5, 0x81, 2, 0, 2, 0]))).toBe(true);
  });

  it('keeps setenv in memory, writes it to NVRAM only on saveenv, and stalls getenv of unset variables', async () => {
    const phone = phoneIn('iboot');
    const device = new IBootDevice({ phone, verifyImage: imageVerifierFor(key) });
    const send = (text: string) =>
      device.control(setup(IBootRequest.command, text.length + 1), Buffer.from(`${text}\0`), never);
    const reply = async () =>
      Buffer.from(
        await device.control(setup(IBootRequest.readReply, 255), new Uint8Array(0), never),
      ).toString('latin1');
    await send('setenv boot-args rd=md0 -progress');
    await send('getenv boot-args');
    expect(await reply()).toBe('rd=md0 -progress\0');
    expect(phone.nvram.has('boot-args')).toBe(false);
    await send('saveenv');
    expect(phone.nvram.get('boot-args')).toBe('rd=md0 -progress');
    await expect(send('getenv no-such-thing')).rejects.toMatchObject({ kind: 'pipe' });
  });

  it('answers the console only on interface 1 alternate 1, and times out when it is quiet', async () => {
    const device = new IBootDevice({ phone: phoneIn('iboot'), verifyImage: imageVerifierFor(key) });
    await expect(device.bulkIn(0x81, 512, never)).rejects.toMatchObject({ kind: 'pipe' });
    device.setInterface(1, 1);
    expect(Buffer.from(await device.bulkIn(0x81, 4096, never)).toString()).toMatch(/Entering recovery mode/);
    const quiet = new AbortController();
    setTimeout(() => quiet.abort(), 20);
    await expect(device.bulkIn(0x81, 4096, quiet.signal)).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('fails pending console reads with no-device when it leaves the bus', async () => {
    const device = new IBootDevice({ phone: phoneIn('iboot'), verifyImage: imageVerifierFor(key) });
    device.setInterface(1, 1);
    await device.bulkIn(0x81, 4096, never);
    const pending = device.bulkIn(0x81, 4096, never);
    device.dispose();
    await expect(pending).rejects.toMatchObject({ kind: 'no-device' });
  });
});

describe('derTotalLength', () => {
  it('reads short and long DER lengths', () => {
    expect(derTotalLength(Uint8Array.of(0x30, 0x05))).toBe(7);
    expect(derTotalLength(Uint8Array.of(0x30, 0x82, 0x01, 0x00))).toBe(4 + 256);
    expect(derTotalLength(Uint8Array.of(0x04, 0x05))).toBeUndefined();
    expect(derTotalLength(Uint8Array.of(0x30, 0x85, 1, 1, 1, 1, 1))).toBeUndefined();
  });
});
