// Debian's irecovery 1.0.0 (libirecovery over the system libusb 1.0.26), a peer no one here wrote,
// against simulated phones emulated at the usbdevfs level through umockdev: four phones on two
// controllers, two in DFU and two in recovery. What it prints comes from the simulator's device
// model, and what it sends is received and verified by the simulated phone.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseIBootNonces } from '@bench/protocols';
import { personalizeForDevice, SimBench, type SimPhone } from '@bench/device-sim';
import { runProcess, waitFor } from '@bench/testing';
import {
  checkUsbEmulationPrerequisites,
  startUsbEmulation,
  type UsbEmulation,
} from '../usb-emulation/usb-emulation';

jest.setTimeout(60_000);

const PORTS = { dfu: '1-1.2', recovery: '1-1.4', dfu2: '2-1.3', recovery2: '2-1.1' } as const;

describe('irecovery 1.0.0 against emulated phones', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-usb-emulation-irecovery-'));
  let bench: SimBench;
  let emulation: UsbEmulation;
  const phones = {} as Record<keyof typeof PORTS, SimPhone>;

  beforeAll(async () => {
    checkUsbEmulationPrerequisites({ irecovery: true });
    bench = new SimBench({ speed: 50, firmwareDir: path.join(dir, 'firmware') });
    for (const [name, port] of Object.entries(PORTS) as [keyof typeof PORTS, string][]) {
      const stage = name.startsWith('dfu') ? 'secure-rom' : 'iboot';
      phones[name] = bench.addPhone({ productType: 'iPhone10,1', stage, port });
    }
    emulation = await startUsbEmulation(bench.bus);
  });

  afterAll(async () => {
    await emulation?.close();
    await bench?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => emulation.settled());

  const irecovery = async (phone: SimPhone, args: string[], input?: string) => {
    // cwd: the shell keeps its history in ./.irecovery.
    const result = await runProcess('irecovery', ['-i', `0x${phone.identity.ecidHex}`, ...args], {
      cwd: dir,
      env: emulation.env(),
      input,
      timeoutMs: 30_000,
    });
    if (result.code !== 0) {
      throw new Error(
        `irecovery ${args.join(' ')} exited ${result.code ?? result.signal}:\n${result.stdout}${result.stderr}\nharness:\n${emulation.log}`,
      );
    }
    return result.stdout;
  };

  /** What the device on the phone's port shows now, as the simulator models it. */
  const shown = (phone: SimPhone) => {
    const device = bench.bus.ibootDeviceAt(phone.port ?? '');
    if (!device) throw new Error(`no DFU/recovery device on ${phone.port}`);
    return { device, nonces: parseIBootNonces(device.stringDescriptor(1) ?? '') };
  };

  const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

  /** A personalized image for the phone as it shows itself now, written to a file. */
  const imageFile = (phone: SimPhone, component: 'iBSS' | 'iBEC', bytes: number) => {
    const { model, ecid } = phone.identity;
    const file = path.join(dir, `${component}-${phone.identity.ecidHex}.img4`);
    const apNonce = shown(phone).device.apNonce;
    const image = personalizeForDevice({
      component,
      payload: randomBytes(bytes),
      ecid,
      apNonce,
      cpid: model.cpid,
      bdid: model.bdid,
      key: bench.key,
    });
    writeFileSync(file, image);
    return file;
  };

  const notesOf = (phone: SimPhone, kind: string) =>
    bench.notes.filter((n) => n.ecid === phone.identity.ecidHex && n.kind === kind).map((n) => n.detail);

  it('-q prints the simulated CPID, BDID, ECID and nonces of each phone, in DFU and in recovery', async () => {
    for (const phone of Object.values(phones)) {
      const out = await irecovery(phone, ['-q']);
      const fields = Object.fromEntries(
        out
          .trim()
          .split('\n')
          .map((line) => line.split(': ')),
      ) as Record<string, string>;
      const { model } = phone.identity;
      const { nonces } = shown(phone);
      const dfu = phone.stage === 'secure-rom';
      expect(fields).toMatchObject({
        CPID: `0x${model.cpid.toString(16).padStart(4, '0')}`,
        BDID: `0x${model.bdid.toString(16).padStart(2, '0')}`,
        ECID: `0x${phone.identity.ecidHex.toLowerCase()}`,
        NONC: hex(nonces.apNonce),
        SNON: hex(nonces.sepNonce),
        MODE: dfu ? 'DFU' : 'Recovery',
        SRNM: dfu ? 'N/A' : phone.identity.serialNumber,
      });
      expect(fields.NONC).toMatch(/^[0-9a-f]{64}$/);
      if (dfu) expect(fields.SRTG).toMatch(/^iBoot-/);
    }
  });

  it('-f: a DFU phone receives the iBSS, verifies it and re-enumerates in recovery running it', async () => {
    const phone = phones.dfu;
    const file = imageFile(phone, 'iBSS', 60_000);
    const before = bench.bus.deviceAt(phone.port ?? '');
    await irecovery(phone, ['-f', file]);
    expect(notesOf(phone, 'image-accepted')).toEqual([
      expect.objectContaining({ component: 'iBSS', bytes: statSync(file).size, stage: 'secure-rom' }),
    ]);
    // irecovery's DFU finish ends with a USB reset: the phone leaves and comes back as 05ac:1281.
    await waitFor(() => phone.stage === 'ibss' && bench.bus.ibootDeviceAt(phone.port ?? ''), 10_000, 'iBSS');
    await emulation.settled();
    const onPort = emulation.bridge.history.filter((e) => e.portPath === phone.port && e.served);
    expect(onPort.map((e) => [e.type, e.productId])).toEqual([
      ['add', 0x1227],
      ['remove', 0x1227],
      ['add', 0x1281],
    ]);
    expect(onPort[2].address).not.toBe(before?.address);
    expect(await irecovery(phone, ['-q'])).toContain('MODE: Recovery');
  });

  it('-f then -c go: a recovery phone receives the iBEC (every byte) and boots it', async () => {
    const phone = phones.recovery;
    const file = imageFile(phone, 'iBEC', 100_000);
    await irecovery(phone, ['-f', file]);
    await irecovery(phone, ['-c', 'go']);
    expect(notesOf(phone, 'image-accepted')).toEqual([
      expect.objectContaining({ component: 'iBEC', bytes: statSync(file).size, stage: 'iboot' }),
    ]);
    await waitFor(() => phone.stage === 'ibec' && bench.bus.ibootDeviceAt(phone.port ?? ''), 10_000, 'iBEC');
  });

  it("-s: the shell's getenv prints the simulated build-version; the console is read on interface 1", async () => {
    const phone = phones.recovery2;
    const out = await irecovery(phone, ['-s'], 'getenv build-version\n/exit\n');
    expect(out).toContain(`\n${phone.nvram.get('build-version')}\n`);
    expect(phone.nvram.get('build-version')).toBe(`iBoot-${phone.buildVersion}`);
    // The iBoot banner and the command echo came through the console endpoint (0x81, alt 1).
    expect(out).toContain('Entering recovery mode, starting command prompt');
    expect(out).toContain('] getenv build-version');
  });
});
