// Acceptance (protocol issue, CLI): `bench devices` lists DFU and recovery phones on the USB bus
// with mode, ECID, port path and link speed. The command only reads a real libusb bus, so it runs
// inside the umockdev testbed (see test/usb-emulation/README.md) against simulated phones: what
// it prints comes through node `usb`, usbdevfs and the iSerialNumber each phone's device model
// serves. A phone in iOS is listed from the simulator's usbmuxd in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimBench, type SimBenchEndpoints, type SimPhone } from '@bench/device-sim';
import { runBench, type RunResult } from '@bench/testing';
import { startUsbEmulation, type UsbEmulation } from '../usb-emulation/usb-emulation';

jest.setTimeout(90_000);

interface Listed {
  mode: string;
  via: string;
  ecid?: string;
  portPath?: string;
  speedMbps?: number;
  cpid?: number;
  bdid?: number;
  productType?: string;
  error?: string;
}

describe('bench devices on an emulated USB bus', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-usb-emulation-devices-'));
  let bench: SimBench;
  let endpoints: SimBenchEndpoints;
  let emulation: UsbEmulation;
  let recovery: SimPhone;
  let dfu: SimPhone;
  let slowDfu: SimPhone;
  let normal: SimPhone;

  beforeAll(async () => {
    bench = new SimBench({ speed: 50, firmwareDir: path.join(dir, 'firmware') });
    endpoints = await bench.start();
    // A bad cable on 2-1.3: the phone there links at full speed (12 Mbit/s).
    bench.faults.addRules([{ slot: '2-1.3', fault: { kind: 'full-speed-link' }, times: 1 }]);
    recovery = bench.addPhone({ productType: 'iPhone10,1', stage: 'iboot', port: '1-1.2' });
    dfu = bench.addPhone({ productType: 'iPhone13,2', stage: 'secure-rom', port: '1-1.5' });
    slowDfu = bench.addPhone({ productType: 'iPhone9,1', stage: 'secure-rom', port: '2-1.3' });
    normal = bench.addPhone({ productType: 'iPhone10,1', stage: 'ios', port: '2-1.1' });
    emulation = await startUsbEmulation(bench.bus);
  });

  afterAll(async () => {
    await emulation?.close();
    await bench?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const devices = (args: string[]): Promise<RunResult> =>
    runBench(['devices', ...args], {
      env: emulation.env({
        PATH: process.env.PATH,
        BENCH_HOME: dir,
        USBMUXD_SOCKET_ADDRESS: endpoints.usbmuxd.socketAddress,
      }),
      timeoutMs: 60_000,
    });

  const failed = (result: RunResult) =>
    `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nharness:\n${emulation.log}`;

  it('--json lists the DFU and recovery phones with mode, ECID, port path and speed, and the iOS phone', async () => {
    await emulation.settled();
    const result = await devices(['--json']);
    if (result.code !== 0) throw new Error(failed(result));
    expect(result.stderr).toBe('');
    const listed = JSON.parse(result.stdout) as Listed[];
    const usb = listed
      .filter((d) => d.via === 'usb')
      .sort((a, b) => (a.portPath ?? '').localeCompare(b.portPath ?? ''));
    const expected = (phone: SimPhone, mode: string, portPath: string, speedMbps: number) => ({
      mode,
      via: 'usb',
      ecid: phone.identity.ecidHex,
      portPath,
      speedMbps,
      cpid: phone.identity.model.cpid,
      bdid: phone.identity.model.bdid,
    });
    expect(usb).toEqual([
      expected(recovery, 'recovery', '1-1.2', 480),
      expected(dfu, 'dfu', '1-1.5', 480),
      expected(slowDfu, 'dfu', '2-1.3', 12),
    ]);
    const mux = listed.filter((d) => d.via === 'usbmux');
    expect(mux).toHaveLength(1);
    expect(mux[0]).toMatchObject({
      mode: 'normal',
      ecid: normal.identity.ecidHex,
      productType: 'iPhone10,1',
    });
    expect(mux[0].error).toBeUndefined();
  });

  it('follows the bus: a phone sent from recovery to DFU is listed in DFU on the same port', async () => {
    // Recovery → DFU as a technician does it with the buttons: the phone leaves and comes back.
    const before = recovery.enumeration;
    recovery.reboot('secure-rom');
    await waitForEnumeration(recovery, before);
    await emulation.settled();
    const result = await devices(['--json']);
    if (result.code !== 0) throw new Error(failed(result));
    const listed = JSON.parse(result.stdout) as Listed[];
    expect(listed.find((d) => d.ecid === recovery.identity.ecidHex)).toMatchObject({
      mode: 'dfu',
      via: 'usb',
      portPath: '1-1.2',
      speedMbps: 480,
    });
  });

  it('prints a table with the same facts', async () => {
    await emulation.settled();
    const result = await devices([]);
    if (result.code !== 0) throw new Error(failed(result));
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['PORT', 'MODE', 'ECID', 'MODEL', 'SPEED']);
    const row = (port: string) => lines.find((line) => line.startsWith(`${port} `))?.split(/\s{2,}/);
    expect(row('1-1.5')).toEqual([
      '1-1.5',
      'dfu',
      dfu.identity.ecidHex,
      `CPID 0x${dfu.identity.model.cpid.toString(16)}`,
      '480 Mbit/s',
    ]);
    expect(row('2-1.3')).toEqual([
      '2-1.3',
      'dfu',
      slowDfu.identity.ecidHex,
      `CPID 0x${slowDfu.identity.model.cpid.toString(16)}`,
      '12 Mbit/s',
    ]);
    expect(lines.some((line) => line.includes(normal.identity.ecidHex) && /\bnormal\b/.test(line))).toBe(
      true,
    );
  });
});

/** Resolves once the phone enumerated again (a mode change is detach, pause, attach). */
function waitForEnumeration(phone: SimPhone, before: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${phone.identity.ecidHex} did not come back`)), 30_000);
    const check = () => {
      if (phone.enumeration > before && phone.presence !== 'none') {
        clearTimeout(timer);
        phone.off('attach', check);
        resolve();
      }
    };
    phone.on('attach', check);
    check();
  });
}
