// `bench restore` with the real USB transport (LibusbBus over node `usb`), run inside the umockdev
// testbed against an emulated phone: DFU and recovery over usbdevfs, then restore mode over the
// simulator's usbmuxd endpoint, TSS from the simulator's server. A cable pulled mid-upload must
// come back through libusb's own error path as transient-usb, and the next attempt must finish.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimBench, type SimBenchEndpoints, type SimPhone } from '@bench/device-sim';
import { runBench } from '@bench/testing';
import { startUsbEmulation, type UsbEmulation } from '../usb-emulation/usb-emulation';

jest.setTimeout(120_000);

interface Event {
  type: string;
  stage?: string;
  mode?: string;
  portPath?: string;
  failureClass?: string;
  message?: string;
}

describe('bench restore with the real USB transport under umockdev', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-usb-emulation-restore-'));
  let bench: SimBench;
  let endpoints: SimBenchEndpoints;
  let emulation: UsbEmulation;
  let ipswPath: string;
  let bystander: SimPhone;

  beforeAll(async () => {
    bench = new SimBench({ speed: 60, firmwareDir: path.join(dir, 'firmware'), osSize: 2 * 1024 * 1024 });
    endpoints = await bench.start();
    ipswPath = (await bench.ipsw(['iPhone10,1'])).path;
    // Another phone on the bench: the engine must pick its phone by ECID and leave this one alone.
    bystander = bench.addPhone({ productType: 'iPhone10,1', stage: 'iboot', port: '1-1.1' });
    emulation = await startUsbEmulation(bench.bus);
  });

  afterAll(async () => {
    await emulation?.close();
    await bench?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const restore = async (phone: SimPhone) => {
    const result = await runBench(
      ['restore', '--ecid', phone.identity.ecidHex, '--ipsw', ipswPath, '--json'],
      {
        env: emulation.env({
          PATH: process.env.PATH,
          BENCH_HOME: dir,
          USBMUXD_SOCKET_ADDRESS: endpoints.usbmuxd.socketAddress,
          BENCH_TSS_URL: endpoints.tssUrl,
        }),
        timeoutMs: 100_000,
      },
    );
    const events = result.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Event);
    const context = `exit ${result.code}\n${result.stderr}\nlast events: ${JSON.stringify(events.slice(-3))}\nharness:\n${emulation.log}`;
    return { code: result.code, events, context };
  };

  /** Fails with the run's output, so a failure says where the restore stopped. */
  const expectOutcome = (run: Awaited<ReturnType<typeof restore>>, code: number, last: string) => {
    if (run.code !== code || run.events.at(-1)?.type !== last) {
      throw new Error(`expected exit ${code} with a '${last}' event, got ${run.context}`);
    }
  };

  const served = (port: string) =>
    emulation.bridge.history.filter((e) => e.portPath === port && e.served).map((e) => [e.type, e.productId]);

  it('restores an emulated phone from DFU through recovery to restore mode, then to done', async () => {
    const phone = bench.addPhone({ productType: 'iPhone10,1', stage: 'secure-rom', port: '1-1.3' });
    await emulation.settled();
    const run = await restore(phone);
    expectOutcome(run, 0, 'done');
    const { events } = run;
    expect(events.filter((e) => e.type === 'stage').map((e) => e.stage)).toEqual(
      expect.arrayContaining([
        'send-ibss',
        'send-ibec',
        'boot-ramdisk',
        'restored-connect',
        'send-filesystem',
      ]),
    );
    const seen = events.filter((e) => e.type === 'device').map((e) => e.mode);
    expect([...new Set(seen)]).toEqual(['dfu', 'recovery', 'restore', 'normal']);
    // On the emulated bus: DFU, iBSS, iBEC, each a new enumeration; after bootx the phone left
    // libusb's bus for good (restore and normal mode were usbmuxd's).
    expect(served('1-1.3')).toEqual([
      ['add', 0x1227],
      ['remove', 0x1227],
      ['add', 0x1281],
      ['remove', 0x1281],
      ['add', 0x1281],
      ['remove', 0x1281],
    ]);
    expect(phone.stage).toBe('ios');
    expect(bystander.stage).toBe('iboot');
  });

  it('a cable pulled mid-upload is transient-usb (exit 10) through libusb; after re-plug the next attempt finishes', async () => {
    const phone = bench.addPhone({ productType: 'iPhone10,1', stage: 'secure-rom', port: '1-1.5' });
    bench.faults.addRules([
      { slot: '1-1.5', at: { stage: 'send-ibss', progress: 50 }, fault: { kind: 'cable-pull' }, times: 1 },
    ]);
    await emulation.settled();

    const first = await restore(phone);
    expectOutcome(first, 10, 'failed');
    expect(first.events.at(-1)).toMatchObject({ type: 'failed', failureClass: 'transient-usb' });
    // The in-flight DFU DNLOAD came back from libusb as "no device" (the URB failed with ENODEV).
    expect(first.events.at(-1)?.message).toMatch(/LIBUSB_(TRANSFER|ERROR)_NO_DEVICE/);
    expect(bench.notes).toContainEqual(
      expect.objectContaining({
        ecid: phone.identity.ecidHex,
        kind: 'fault',
        detail: expect.objectContaining({ fault: 'cable-pull' }),
      }),
    );
    expect(phone.port).toBeNull();

    bench.plug(phone, '1-1.5');
    await emulation.settled();
    expectOutcome(await restore(phone), 0, 'done');
    expect(served('1-1.5').slice(0, 4)).toEqual([
      ['add', 0x1227],
      ['remove', 0x1227], // the pull
      ['add', 0x1227], // the re-plug, still in DFU
      ['remove', 0x1227], // iBSS took over
    ]);
  });
});
