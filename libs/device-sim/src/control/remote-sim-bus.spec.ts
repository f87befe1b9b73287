// The control API's bus stream and the mirror a host in another process builds from it (loopback).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { UsbHotplugEvent } from '@bench/usb-transport';
import { UsbmuxClient } from '@bench/usb-transport';
import { SimBench } from '../bench/sim-bench';
import { SimControlApi } from './control-api';
import { RemoteSimUsbBus } from './remote-sim-bus';

describe('RemoteSimUsbBus over the control API', () => {
  let dir: string;
  let bench: SimBench;
  let control: SimControlApi;
  let url: string;
  let remote: RemoteSimUsbBus;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'remote-sim-bus-'));
    bench = new SimBench({ speed: 100, seed: 7, firmwareDir: dir });
    await bench.start();
    control = new SimControlApi(bench);
    url = await control.listen();
    bench.addPhone({ productType: 'iPhone10,1', stage: 'restore-ramdisk', port: '1-1.1' });
    remote = await RemoteSimUsbBus.connect(url);
  });

  afterAll(async () => {
    await remote.close();
    await control.close();
    await bench.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts from the simulated bus as it is', async () => {
    expect(await remote.list()).toEqual(await bench.bus.list());
  });

  it('announces attach and detach as the simulator plugs and unplugs', async () => {
    const events: UsbHotplugEvent[] = [];
    remote.watch((event) => events.push(event));
    const phone = bench.addPhone({ productType: 'iPhone10,1', stage: 'restore-ramdisk', port: '1-1.2' });
    await waitUntil(() => events.length >= 1);
    expect(events[0]).toMatchObject({ type: 'attach', device: { portPath: '1-1.2', productId: 0x12a8 } });
    bench.unplug(phone);
    await waitUntil(() => events.length >= 2);
    expect(events[1]).toMatchObject({ type: 'detach', device: { portPath: '1-1.2' } });
    expect((await remote.list()).map((d) => d.portPath)).not.toContain('1-1.2');
  });

  it('lists devices but does not open them (USB-level access needs the in-process simulator)', async () => {
    const [device] = await remote.list();
    await expect(remote.open(device)).rejects.toMatchObject({ kind: 'access' });
  });

  it('describes the bench and records when the host first reached a plugged phone', async () => {
    const info = (await (await fetch(`${url}/bench`)).json()) as { ports: string[]; speed: number };
    expect(info.ports).toEqual(bench.ports());
    expect(info.speed).toBe(100);

    const usbmux = UsbmuxClient.forAddress(bench.started.usbmuxd.socketAddress);
    const phone = bench.addPhone({ productType: 'iPhone10,1', stage: 'restore-ramdisk', port: '1-1.3' });
    const device = await waitUntil(async () =>
      (await usbmux.listDevices()).find((d) => d.serialNumber === phone.identity.udid),
    );
    const socket = await usbmux.connect(device.deviceId, 62078);
    socket.destroy();
    const contacts = (await (await fetch(`${url}/contacts`)).json()) as {
      ecid: string;
      pluggedAt: number;
      firstContactAt?: number;
      firstContact?: string;
    }[];
    const entry = contacts.find((c) => c.ecid === phone.identity.ecidHex);
    expect(entry?.firstContact).toBe('usbmux-connect:62078');
    expect(entry?.firstContactAt).toBeGreaterThanOrEqual(entry?.pluggedAt ?? Infinity);
  });
});

async function waitUntil<T>(probe: () => T | Promise<T>, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
