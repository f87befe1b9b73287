// IBootClient driving simulated phones through the boot chain on the simulated USB bus: real
// personalization checks (the simulator's ticket key), re-enumeration, faults at USB stages.
import { randomBytes } from 'node:crypto';
import type { PhoneFaults, SimFault, SimPhone } from '@bench/device-sim';
import { IBootProductId, IBootRequest } from '@bench/protocols';
import {
  DfuStateError,
  openIBootDevice,
  UsbTransportError,
  waitForDetach,
  waitForDevice,
  type IBootClient,
  type OpenIBootDeviceOptions,
} from '@bench/usb-transport';
import { simBench, type SimBench } from './usb-sim-bench';

const MUX_PID = 0x12a8;
const quickRetry = { retry: { attempts: 25, intervalMs: 200 } } as const;

function open(
  bench: SimBench,
  phone: SimPhone,
  modes: OpenIBootDeviceOptions['modes'],
): Promise<IBootClient> {
  return openIBootDevice(bench.bus, { ecid: phone.identity.ecid, modes, ...quickRetry });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** DFU → iBSS (recovery). */
async function bootIbss(bench: SimBench, phone: SimPhone): Promise<IBootClient> {
  const dfu = await open(bench, phone, ['dfu']);
  await dfu.uploadDfu(bench.imageFor(dfu, phone, 'iBSS', { bytes: 150_000 }), { statusPollIntervalMs: 10 });
  await dfu.close();
  return open(bench, phone, ['recovery']);
}

/** iBSS/iBoot → iBEC via upload + go. */
async function bootIbec(bench: SimBench, phone: SimPhone, from: IBootClient): Promise<IBootClient> {
  await from.uploadRecovery(bench.imageFor(from, phone, 'iBEC', { bytes: 200_000 }));
  const gone = waitForDetach(bench.bus, from.device, 5_000);
  await from.go();
  await from.kick();
  await gone;
  await from.close();
  return open(bench, phone, ['recovery']);
}

describe('IBootClient on the simulated USB bus', () => {
  let bench: SimBench;
  afterEach(() => bench.close());

  it('uploads a valid iBSS in DFU; the phone re-enumerates as recovery with a new nonce', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.3', 'secure-rom');
    const dfu = await open(bench, phone, ['dfu']);
    expect(dfu.identity).toMatchObject({
      mode: 'dfu',
      cpid: 0x8015,
      bdid: 0x02,
      ecid: phone.identity.ecidHex,
      portPath: '1-1.3',
      image4Supported: true,
      srtg: expect.stringMatching(/^iBoot-/),
    });
    expect(dfu.identity.apNonce).toEqual(phone.apNonce);
    const percents: number[] = [];
    await dfu.uploadDfu(bench.imageFor(dfu, phone, 'iBSS', { bytes: 150_000 }), {
      onProgress: (p) => percents.push(p.percent),
      statusPollIntervalMs: 10,
    });
    expect(percents.at(-1)).toBe(100);
    await dfu.close();

    const ibss = await open(bench, phone, ['recovery']);
    expect(ibss.device).toMatchObject({ productId: IBootProductId.recovery2, portPath: '1-1.3' });
    expect(ibss.device.id).not.toBe(dfu.device.id);
    expect(ibss.identity.srnm).toBe(phone.identity.serialNumber);
    expect(ibss.identity.apNonce?.equals(dfu.identity.apNonce ?? Buffer.alloc(0))).toBe(false);
    expect(phone.stage).toBe('ibss');
    expect(bench.notes).toContainEqual(
      expect.objectContaining({
        kind: 'image-accepted',
        detail: expect.objectContaining({ component: 'iBSS', fourcc: 'ibss' }),
      }),
    );
  });

  it('boots iBEC with go; iBEC keeps the nonce it was booted with', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.1', 'secure-rom');
    const ibss = await bootIbss(bench, phone);
    const ibssNonce = ibss.identity.apNonce;
    const ibec = await bootIbec(bench, phone, ibss);
    expect(phone.stage).toBe('ibec');
    expect(ibec.identity.apNonce).toEqual(ibssNonce);
    expect(await ibec.readConsole(100)).toContain('iBEC for d20ap');
  });

  it('loads ramdisk, device tree and kernel cache, and bootx takes the phone off the bus into restore mode', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.2', 'secure-rom');
    const ibec = await bootIbec(bench, phone, await bootIbss(bench, phone));
    expect(await ibec.getenv('build-style')).toBe('RELEASE');
    await ibec.setenv('auto-boot', 'false');
    await ibec.saveenv();
    await ibec.uploadRecovery(bench.imageFor(ibec, phone, 'RestoreRamDisk', { bytes: 1_000_000 }));
    await ibec.sendCommand('getenv ramdisk-delay').catch(() => undefined);
    await ibec.sendCommand('ramdisk');
    await ibec.uploadRecovery(bench.imageFor(ibec, phone, 'RestoreDeviceTree', { bytes: 100_000 }));
    await ibec.sendCommand('devicetree');
    await ibec.uploadRecovery(bench.imageFor(ibec, phone, 'RestoreKernelCache', { bytes: 500_000 }));
    await ibec.kick();
    await ibec.setenv('boot-args', 'rd=md0 nand-enable-reformat=1 -progress');
    const console = await ibec.readConsole(100);
    expect(console).toMatch(/ramdisk loaded/);
    expect(console).toMatch(/devicetree loaded/);

    const gone = waitForDetach(bench.bus, ibec.device, 5_000);
    await ibec.bootx();
    await gone;
    const restore = await waitForDevice(
      bench.bus,
      (d) => d.portPath === '1-1.2' && d.productId === MUX_PID,
      5_000,
    );
    expect(restore.vendorId).toBe(0x05ac);
    expect(phone.stage).toBe('restore-ramdisk');
    expect(phone.nvram.get('auto-boot')).toBe('false');
    expect(bench.notes.map((n) => n.kind)).toContain('bootx');
  });

  it('an iBSS personalized for another nonce is refused: the phone comes back in DFU', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.4', 'secure-rom');
    const dfu = await open(bench, phone, ['dfu']);
    const stale = bench.imageFor(dfu, phone, 'iBSS', { apNonce: randomBytes(32) });
    await dfu.uploadDfu(stale, { statusPollIntervalMs: 10 });
    const again = await open(bench, phone, ['dfu', 'recovery']);
    expect(again.mode).toBe('dfu');
    expect(phone.stage).toBe('secure-rom');
    expect(bench.notes).toContainEqual(
      expect.objectContaining({
        kind: 'image-rejected',
        detail: expect.objectContaining({ reason: expect.stringMatching(/^nonce-mismatch/) }),
      }),
    );
  });

  it('bootx with a device tree signed by someone else sends the phone back to recovery', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.5', 'secure-rom');
    const ibec = await bootIbec(bench, phone, await bootIbss(bench, phone));
    await ibec.uploadRecovery(bench.imageFor(ibec, phone, 'RestoreRamDisk'));
    await ibec.sendCommand('ramdisk');
    const foreign = simBench();
    try {
      // Same phone identity and nonce, another bench's key: the signature does not verify.
      await ibec.uploadRecovery(foreign.imageFor(ibec, phone, 'RestoreDeviceTree'));
    } finally {
      await foreign.close();
    }
    await ibec.sendCommand('devicetree');
    await ibec.uploadRecovery(bench.imageFor(ibec, phone, 'RestoreKernelCache'));
    const gone = waitForDetach(bench.bus, ibec.device, 5_000);
    await ibec.bootx();
    await gone;
    const back = await open(bench, phone, ['recovery', 'dfu']);
    expect(back.mode).toBe('recovery');
    expect(phone.stage).toBe('iboot');
    expect(bench.notes).toContainEqual(
      expect.objectContaining({
        kind: 'bootx-failed',
        detail: expect.objectContaining({ reason: 'devicetree missing or invalid' }),
      }),
    );
  });

  it('go with an iBEC for another ECID is refused and the device stays put', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.6', 'iboot');
    const other = bench.phone('1-1.7', 'iboot');
    const iboot = await open(bench, phone, ['recovery']);
    await iboot.uploadRecovery(bench.imageFor(iboot, other, 'iBEC'));
    await iboot.go();
    expect(await iboot.readConsole(100)).toMatch(/go: image validation failed: ecid-mismatch/);
    expect(await iboot.getenv('build-version')).toMatch(/^iBoot-/);
    expect(phone.stage).toBe('iboot');
  });

  it('exits recovery with auto-boot true + saveenv + reboot; setenvnp alone does not persist', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.1', 'iboot');
    let client = await open(bench, phone, ['recovery']);
    await client.setenvnp('auto-boot', 'true');
    expect(await client.getenv('auto-boot')).toBe('true');
    let gone = waitForDetach(bench.bus, client.device, 5_000);
    await client.reboot();
    await gone;
    client = await open(bench, phone, ['recovery']);
    expect(phone.stage).toBe('iboot');
    expect(await client.getenv('auto-boot')).toBe('false');

    await client.setenv('auto-boot', 'true');
    await client.saveenv();
    gone = waitForDetach(bench.bus, client.device, 5_000);
    await client.reboot();
    await gone;
    await waitForDevice(bench.bus, (d) => d.portPath === '1-1.1' && d.productId === MUX_PID, 5_000);
    expect(phone.stage).toBe('ios');
  });

  it('clears a DFU device stuck in dfuERROR with a typed error, then uploads on the retry', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.2', 'secure-rom');
    const dfu = await open(bench, phone, ['dfu']);
    // A block out of order puts SecureROM in dfuERROR (and stalls).
    const stalled = await rejection(dfu.handle.controlOut(IBootRequest.dfuDnload(7), Buffer.alloc(16)));
    expect((stalled as UsbTransportError).kind).toBe('pipe');
    expect(await dfu.getDfuState()).toBe(10);
    const image = bench.imageFor(dfu, phone, 'iBSS');
    const error = await rejection(dfu.uploadDfu(image, { statusPollIntervalMs: 10 }));
    expect(error).toBeInstanceOf(DfuStateError);
    expect(error).toMatchObject({ state: 10, failureClass: 'transient-usb' });
    expect(await dfu.getDfuState()).toBe(2);
    await dfu.uploadDfu(image, { statusPollIntervalMs: 10 });
    expect((await open(bench, phone, ['recovery'])).mode).toBe('recovery');
  });

  it('a hang at send-ibss makes the transfer time out while the phone stays attached', async () => {
    let fired = false;
    const faults: PhoneFaults = {
      check: (_phone, at): SimFault | undefined => {
        if (fired || at.stage !== 'send-ibss' || (at.progress ?? 0) < 50) return undefined;
        fired = true;
        return { kind: 'hang' };
      },
      active: () => false,
    };
    bench = simBench({ faults });
    const phone = bench.phone('1-1.3', 'secure-rom');
    const hung = await openIBootDevice(bench.bus, {
      ecid: phone.identity.ecid,
      modes: ['dfu'],
      transferTimeoutMs: 300,
    });
    const error = await rejection(
      hung.uploadDfu(bench.imageFor(hung, phone, 'iBSS', { bytes: 100_000 }), { statusPollIntervalMs: 10 }),
    );
    expect(error).toBeInstanceOf(UsbTransportError);
    expect((error as UsbTransportError).kind).toBe('timeout');
    expect((await bench.bus.list()).some((d) => d.id === hung.device.id)).toBe(true);
  });

  it('a corrupted transfer fails the DFU CRC: the phone stays in DFU', async () => {
    let fired = false;
    const faults: PhoneFaults = {
      check: (_phone, at): SimFault | undefined => {
        if (fired || at.stage !== 'send-ibss') return undefined;
        fired = true;
        return { kind: 'corrupt-transfer' };
      },
      active: () => false,
    };
    bench = simBench({ faults });
    const phone = bench.phone('1-1.3', 'secure-rom');
    const dfu = await open(bench, phone, ['dfu']);
    await dfu.uploadDfu(bench.imageFor(dfu, phone, 'iBSS'), { statusPollIntervalMs: 10 });
    expect((await open(bench, phone, ['dfu', 'recovery'])).mode).toBe('dfu');
    expect(bench.notes).toContainEqual(
      expect.objectContaining({
        kind: 'image-rejected',
        detail: expect.objectContaining({ reason: 'DFU suffix CRC mismatch' }),
      }),
    );
  });

  it('a cable pulled mid-upload fails the transfer with no-device', async () => {
    const faults: PhoneFaults = {
      check: (phone, at) => {
        if (at.stage !== 'send-ibec' || (at.progress ?? 0) < 30 || !phone.port) return undefined;
        // The fault engine carries bench-level faults out before it answers.
        bench.bus.unplug(phone.port);
        return { kind: 'cable-pull' };
      },
      active: () => false,
    };
    bench = simBench({ faults });
    const phone = bench.phone('1-1.4', 'iboot');
    const client = await open(bench, phone, ['recovery']);
    const error = await rejection(
      client.uploadRecovery(bench.imageFor(client, phone, 'iBEC', { bytes: 400_000 })),
    );
    expect((error as UsbTransportError).kind).toBe('no-device');
    expect(phone.port).toBeNull();
  });

  it('ends uploads that are a multiple of 512 bytes with a zero-length packet', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.5', 'iboot');
    const client = await open(bench, phone, ['recovery']);
    await client.uploadRecovery(randomBytes(0x8000 * 2));
    await client.sendCommand('firmware');
    expect(bench.notes.map((n) => n.kind)).not.toContain('upload-without-zlp');
    // The same bytes without the ZLP, as irecovery 1.0.0 sent them: the device notices.
    await client.handle.controlOut(IBootRequest.startUpload);
    await client.handle.bulkOut(0x04, randomBytes(0x8000 * 2));
    await client.sendCommand('firmware');
    expect(bench.notes.map((n) => n.kind)).toContain('upload-without-zlp');
  });
});
