// Hub port control (HubPortController over the simulated bus's class-9 hubs), negotiated link
// speed, and the per-controller bandwidth model.
import { NO_FAULTS, singleControllerTopology, type PhoneFaults, type SimPhone } from '@bench/device-sim';
import { PortFeature, clearPortFeatureSetup, portPowerSetup } from '@bench/usb-transport';
import {
  HubPortController,
  PortPowerSwitchingUnsupportedError,
  waitForDetach,
  waitForDevice,
  type UsbDeviceInfo,
} from '@bench/usb-transport';
import { simBench, type SimBench } from './usb-sim-bench';

const onPort = (portPath: string) => (d: UsbDeviceInfo) => d.portPath === portPath && d.vendorId === 0x05ac;

describe('hub port control on the simulated bus', () => {
  let bench: SimBench;
  afterEach(() => bench.close());

  it('reads port status and switches one port of a per-port hub: the phone detaches and comes back', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.3', 'iboot');
    const hub = await HubPortController.open(bench.bus, '1-1');
    expect(hub.ports).toBe(7);
    expect(hub.canSwitchPortPower).toBe(true);
    expect(hub.portPath(3)).toBe('1-1.3');
    expect(await hub.getPortStatus(3)).toMatchObject({
      connected: true,
      enabled: true,
      powered: true,
      speed: 'high',
    });
    expect(await hub.getPortStatus(4)).toMatchObject({ connected: false, powered: true });
    expect(phone.battery.charging).toBe(phone.battery.level < 100);

    const device = (await bench.bus.list()).find(onPort('1-1.3'));
    if (!device) throw new Error('phone not enumerated');
    const gone = waitForDetach(bench.bus, device, 2_000);
    await hub.setPortPower(3, false);
    await gone;
    expect(await hub.getPortStatus(3)).toMatchObject({
      connected: false,
      powered: false,
      change: { connection: true },
    });
    expect(phone.battery.externalConnected).toBe(false);
    expect(phone.battery.charging).toBe(false);
    expect(phone.stage).toBe('iboot');

    const back = waitForDevice(bench.bus, onPort('1-1.3'), 2_000);
    await hub.setPortPower(3, true);
    const again = await back;
    expect(again.id).not.toBe(device.id);
    expect(phone.battery.externalConnected).toBe(true);
    await hub.close();
  });

  it('power-cycles a port with the injected wait', async () => {
    bench = simBench();
    bench.phone('1-1.5', 'secure-rom');
    const waits: number[] = [];
    const hub = await HubPortController.open(bench.bus, '1-1', {
      sleep: async (ms) => {
        waits.push(ms);
        expect(bench.bus.portState('1-1.5')).toMatchObject({ powered: false, connected: false });
      },
    });
    await hub.powerCycle(5, 3_000);
    expect(waits).toEqual([3_000]);
    expect(bench.bus.portState('1-1.5').powered).toBe(true);
    await waitForDevice(bench.bus, onPort('1-1.5'), 2_000);
    await hub.close();
  });

  it('refuses single-port switching on a ganged hub, whose gang only goes dark when every port is off', async () => {
    bench = simBench();
    const phone = bench.phone('2-1.2', 'iboot');
    const hub = await HubPortController.open(bench.bus, '2-1');
    expect(hub.canSwitchPortPower).toBe(false);
    await expect(hub.setPortPower(2, false)).rejects.toBeInstanceOf(PortPowerSwitchingUnsupportedError);
    await expect(hub.setPortPower(2, false)).rejects.toMatchObject({ failureClass: 'host-setup' });

    // What a naive tool sending raw requests gets (USB 2.0 §11.11 ganged switching).
    const raw = await bench.bus.open(
      (await bench.bus.list()).find((d) => d.portPath === '2-1') as UsbDeviceInfo,
    );
    await raw.controlOut(portPowerSetup(2, false));
    expect(bench.bus.portState('2-1.2').powered).toBe(true);
    for (const port of [1, 3, 4]) await raw.controlOut(portPowerSetup(port, false));
    expect([1, 2, 3, 4].map((p) => bench.bus.portState(`2-1.${p}`).powered)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(phone.port).toBeNull();
    await raw.controlOut(portPowerSetup(4, true));
    expect(bench.bus.portState('2-1.2').powered).toBe(true);
    expect(phone.port).toBe('2-1.2');
    await raw.controlOut(clearPortFeatureSetup(2, PortFeature.changeConnection));
    expect((await hub.getPortStatus(2)).change.connection).toBe(false);
    await raw.close();
    await hub.close();
  });

  it('reports over-current and cuts the port until power is switched on again', async () => {
    bench = simBench();
    const phone = bench.phone('1-1.6', 'iboot');
    const hub = await HubPortController.open(bench.bus, '1-1');
    bench.bus.tripOverCurrent('1-1.6');
    expect(await hub.getPortStatus(6)).toMatchObject({
      overCurrent: true,
      powered: false,
      connected: false,
      change: { overCurrent: true },
    });
    expect(phone.port).toBeNull();
    await hub.setPortPower(6, true);
    expect(await hub.getPortStatus(6)).toMatchObject({ overCurrent: false, powered: true, connected: true });
    await hub.close();
  });

  it('reports a full-speed link (bad cable) on the bus, in the hub port status and on the link', async () => {
    // The fault is read when the link is negotiated, i.e. at enumeration.
    const faults: PhoneFaults = {
      ...NO_FAULTS,
      active: (phone, kind) => kind === 'full-speed-link' && phone.port === '1-1.2',
    };
    bench = simBench({ faults });
    bench.phone('1-1.1', 'iboot');
    bench.phone('1-1.2', 'iboot', 'iPhone9,1');
    const devices = await bench.bus.list();
    expect(devices.find(onPort('1-1.1'))?.speed).toBe('high');
    expect(devices.find(onPort('1-1.2'))?.speed).toBe('full');
    const hub = await HubPortController.open(bench.bus, '1-1');
    expect((await hub.getPortStatus(2)).speed).toBe('full');
    expect((await hub.getPortStatus(1)).speed).toBe('high');
    expect(bench.bus.linkFor('1-1.2').linkSpeedBps).toBe(12_000_000);
    expect(bench.bus.linkFor('1-1.1').linkSpeedBps).toBe(480_000_000);
    await hub.close();
  });
});

describe('USB bandwidth model', () => {
  let bench: SimBench;
  afterEach(() => bench.close());

  // The shares are asserted on the model's simulated time (bytes / busy time per port). Wall
  // clock only checks the direction that cannot flake: nothing finishes faster than its
  // simulated duration divided by the speed factor (timers never fire more than ~1 ms early).

  /** Streams `bytes` through a port's link in chunks; returns the real ms it took. */
  async function stream(portPath: string, bytes: number, chunk = 256 * 1024): Promise<number> {
    const link = bench.bus.linkFor(portPath);
    const start = performance.now();
    for (let sent = 0; sent < bytes; sent += chunk) await link.transfer(Math.min(chunk, bytes - sent));
    return performance.now() - start;
  }

  /** Mbit/s the model gave a port: its bytes over its simulated busy time. */
  function modelMbps(portPath: string): number {
    const { bytes, busySimulatedMs } = bench.bus.linkStats(portPath);
    return (bytes * 8) / (busySimulatedMs / 1000) / 1e6;
  }

  /** Real ms that moving `bytes` at `mbps` takes at the bench's speed factor. */
  const realMsAt = (bytes: number, mbps: number) => (((bytes * 8) / (mbps * 1e6)) * 1000) / bench.clock.speed;

  it('gives one high-speed phone the whole 480 Mbit/s controller', async () => {
    bench = simBench({ speed: 10, topology: singleControllerTopology(16) });
    bench.phone('1-1.1', 'ios');
    const bytes = 120 * 1024 * 1024;
    const realMs = await stream('1-1.1', bytes, 1024 * 1024);
    expect(modelMbps('1-1.1')).toBeCloseTo(480, 6);
    expect(bench.bus.linkStats('1-1.1').bytes).toBe(bytes);
    expect(realMs).toBeGreaterThanOrEqual(realMsAt(bytes, 480) - 2);
  });

  it('shares 480 Mbit/s among 16 phones on one controller (about 30 Mbit/s each)', async () => {
    bench = simBench({ speed: 10, topology: singleControllerTopology(16) });
    const ports = bench.bus.portPaths();
    expect(ports).toHaveLength(16);
    for (const port of ports) bench.phone(port, 'ios');
    // 16 × 8 MiB at 480 Mbit/s: 2.2 s of simulated time.
    const bytes = 8 * 1024 * 1024;
    const start = performance.now();
    await Promise.all(ports.map((port) => stream(port, bytes)));
    const realMs = performance.now() - start;
    const shares = ports.map(modelMbps);
    // The first chunks start before all 16 flows are running, so a few get more at first.
    for (const share of shares) {
      expect(share).toBeGreaterThan(26);
      expect(share).toBeLessThan(36);
    }
    // As flows finish, the last ones get more: the mean lands a little above 480 / 16.
    const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
    expect(mean).toBeGreaterThan(28);
    expect(mean).toBeLessThan(33);
    expect(realMs).toBeGreaterThanOrEqual(realMsAt(bytes * ports.length, 480) * 0.95);
    expect(bench.bus.controllerStats(1)).toMatchObject({
      capacityBps: 480_000_000,
      bytes: bytes * ports.length,
    });
  });

  it('caps a full-speed link at 12 Mbit/s however idle the controller is', async () => {
    bench = simBench({
      speed: 10,
      faults: { ...NO_FAULTS, active: (_phone, kind) => kind === 'full-speed-link' },
    });
    bench.phone('1-1.1', 'ios');
    const bytes = 2 * 1024 * 1024;
    const realMs = await stream('1-1.1', bytes, 64 * 1024);
    expect(modelMbps('1-1.1')).toBeCloseTo(12, 6);
    expect(realMs).toBeGreaterThanOrEqual(realMsAt(bytes, 12) - 2);
  });

  it('gives a full-speed phone its 12 Mbit/s and the others the rest', async () => {
    const faults = {
      ...NO_FAULTS,
      active: (phone: SimPhone, kind: string) => kind === 'full-speed-link' && phone.port === '1-1.1',
    };
    bench = simBench({ speed: 10, faults });
    for (const port of ['1-1.1', '1-1.2', '1-1.3']) bench.phone(port, 'ios');
    await Promise.all([
      stream('1-1.1', 512 * 1024, 32 * 1024),
      stream('1-1.2', 24 * 1024 * 1024),
      stream('1-1.3', 24 * 1024 * 1024),
    ]);
    expect(modelMbps('1-1.1')).toBeCloseTo(12, 6);
    for (const port of ['1-1.2', '1-1.3']) {
      expect(modelMbps(port)).toBeGreaterThan(225);
      expect(modelMbps(port)).toBeLessThan(250);
    }
  });

  it('fails a transfer when the phone leaves mid-stream', async () => {
    bench = simBench({ speed: 1 });
    bench.phone('1-1.1', 'ios');
    const pending = bench.bus.linkFor('1-1.1').transfer(64 * 1024 * 1024);
    bench.bus.unplug('1-1.1');
    await expect(pending).rejects.toMatchObject({ kind: 'no-device' });
    await expect(bench.bus.linkFor('1-1.1').transfer(10)).rejects.toMatchObject({ kind: 'no-device' });
  });
});
