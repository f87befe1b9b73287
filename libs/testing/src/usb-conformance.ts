// One behaviour contract for every UsbBus: the simulator's bus runs it in
// test/integration/usb-conformance-sim.test.ts, the real LibusbBus runs it under umockdev.
// The fixture brings a bus with an Apple device in recovery and one in DFU whose ECIDs are known,
// a way to pull and re-plug a cable, and images those devices accept.
import { parseEcid } from '@bench/bench-domain';
import {
  APPLE_USB_VENDOR_ID,
  IBootProductId,
  IBootRequest,
  parseIBootNonces,
  parseIBootSerial,
} from '@bench/protocols';
import {
  IBootClient,
  UsbTransportError,
  waitForDetach,
  waitForDevice,
  type UsbBus,
  type UsbDeviceHandle,
  type UsbDeviceInfo,
  type UsbHotplugEvent,
  type UsbSpeed,
} from '@bench/usb-transport';

export interface ConformanceDevice {
  ecid: string;
  portPath: string;
}

export interface UsbBusFixture {
  bus: UsbBus;
  recovery: ConformanceDevice;
  dfu: ConformanceDevice;
  /** A personalized image the device accepts while it shows `apNonce`. */
  image(component: 'iBSS' | 'iBEC', device: { ecid: string; apNonce: Uint8Array }): Uint8Array;
  /** Pulls the cable of the device with this ECID (it must detach). */
  unplug(ecid: string): Promise<void>;
  /** Plugs it back into the same port (it must attach again). */
  replug(ecid: string): Promise<void>;
  dispose(): Promise<void>;
  /** Negotiated speed the devices must report (default 'high'). */
  expectedSpeed?: UsbSpeed;
}

export interface ConformanceOptions {
  /** Real ms to wait for a detach or attach (default 10 s, as idevicerestore's DFU waits). */
  waitMs?: number;
  /** Jest timeout per test. */
  testTimeoutMs?: number;
}

const sameDevice = (portPath: string, productId: number) => (d: UsbDeviceInfo) =>
  d.portPath === portPath && d.vendorId === APPLE_USB_VENDOR_ID && d.productId === productId;

async function find(bus: UsbBus, portPath: string, productId: number): Promise<UsbDeviceInfo> {
  const device = (await bus.list()).find(sameDevice(portPath, productId));
  if (!device) throw new Error(`no 05ac:${productId.toString(16)} at ${portPath}`);
  return device;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

export function describeUsbBusConformance(
  name: string,
  makeFixture: () => Promise<UsbBusFixture>,
  options: ConformanceOptions = {},
): void {
  const waitMs = options.waitMs ?? 10_000;

  describe(`UsbBus conformance: ${name}`, () => {
    let fixture: UsbBusFixture;
    const opened: UsbDeviceHandle[] = [];
    const open = async (info: UsbDeviceInfo) => {
      const handle = await fixture.bus.open(info);
      opened.push(handle);
      return handle;
    };

    beforeEach(async () => {
      fixture = await makeFixture();
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((h) => h.close().catch(() => undefined)));
      await fixture.dispose();
    });

    if (options.testTimeoutMs) jest.setTimeout(options.testTimeoutMs);

    it('lists the recovery and DFU devices with ids, port paths and link speed', async () => {
      const devices = await fixture.bus.list();
      const recovery = devices.find(sameDevice(fixture.recovery.portPath, IBootProductId.recovery2));
      const dfu = devices.find(sameDevice(fixture.dfu.portPath, IBootProductId.dfu));
      expect(recovery).toBeDefined();
      expect(dfu).toBeDefined();
      for (const device of [recovery, dfu]) {
        expect(device?.speed).toBe(fixture.expectedSpeed ?? 'high');
        expect(device?.portPath).toMatch(new RegExp(`^${device?.busNumber}-[1-9]`));
        expect(device?.serialNumberIndex).toBeGreaterThan(0);
      }
      expect(new Set(devices.map((d) => d.id)).size).toBe(devices.length);
    });

    it('reports a pulled cable as detach and a re-plug as attach on the same port path', async () => {
      const before = await find(fixture.bus, fixture.recovery.portPath, IBootProductId.recovery2);
      const events: UsbHotplugEvent[] = [];
      const unwatch = fixture.bus.watch((event) => events.push(event));
      try {
        const gone = waitForDetach(fixture.bus, before, waitMs);
        await fixture.unplug(fixture.recovery.ecid);
        await gone;
        const back = waitForDevice(
          fixture.bus,
          sameDevice(fixture.recovery.portPath, IBootProductId.recovery2),
          waitMs,
        );
        await fixture.replug(fixture.recovery.ecid);
        const after = await back;
        expect(after.id).not.toBe(before.id);
        const types = events
          .filter((e) => e.device.portPath === fixture.recovery.portPath)
          .map((e) => [e.type, e.device.id]);
        expect(types).toEqual([
          ['detach', before.id],
          ['attach', after.id],
        ]);
        expect((await fixture.bus.list()).some((d) => d.id === before.id)).toBe(false);
      } finally {
        unwatch();
      }
    });

    it('reads the iSerialNumber (ECID) and the nonce string', async () => {
      for (const [device, pid] of [
        [fixture.recovery, IBootProductId.recovery2],
        [fixture.dfu, IBootProductId.dfu],
      ] as const) {
        const info = await find(fixture.bus, device.portPath, pid);
        const handle = await open(info);
        const serial = parseIBootSerial(await handle.getStringDescriptor(info.serialNumberIndex));
        expect(parseEcid(serial.ecid ?? -1n)).toBe(parseEcid(device.ecid));
        const nonces = parseIBootNonces(await handle.getStringDescriptor(1));
        expect(nonces.apNonce?.length).toBeGreaterThanOrEqual(20);
        expect(await handle.getStringDescriptor(info.manufacturerIndex)).toBe('Apple Inc.');
        if (pid === IBootProductId.dfu) expect(serial.srtg).toMatch(/^iBoot-/);
        else expect(serial.srnm).toMatch(/^\w+$/);
      }
    });

    it('does control transfers: setenv/getenv round trip in recovery, GETSTATE in DFU', async () => {
      const recovery = await IBootClient.open(
        await open(await find(fixture.bus, fixture.recovery.portPath, IBootProductId.recovery2)),
      );
      await recovery.setenv('bench-conformance', 'round trip 1');
      expect(await recovery.getenv('bench-conformance')).toBe('round trip 1');
      expect(await recovery.getenv('bench-never-set')).toBeUndefined();

      const dfu = await open(await find(fixture.bus, fixture.dfu.portPath, IBootProductId.dfu));
      expect(Array.from(await dfu.controlIn(IBootRequest.dfuGetState, 1))).toEqual([2]);
      const status = await dfu.controlIn(IBootRequest.dfuGetStatus, 6);
      expect(status).toHaveLength(6);
      expect(status[4]).toBe(2);
    });

    it('accepts a recovery upload: iBEC + go re-enumerates on the same port', async () => {
      const info = await find(fixture.bus, fixture.recovery.portPath, IBootProductId.recovery2);
      const client = await IBootClient.open(await open(info), { ecid: fixture.recovery.ecid });
      const apNonce = client.identity.apNonce ?? Buffer.alloc(0);
      const gone = waitForDetach(fixture.bus, info, waitMs);
      let sent = 0;
      await client.uploadRecovery(fixture.image('iBEC', { ecid: fixture.recovery.ecid, apNonce }), {
        onProgress: (p) => (sent = p.sent),
      });
      expect(sent).toBeGreaterThan(0);
      await client.go();
      await gone;
      const back = await waitForDevice(
        fixture.bus,
        sameDevice(fixture.recovery.portPath, IBootProductId.recovery2),
        waitMs,
      );
      expect(back.id).not.toBe(info.id);
    });

    it('accepts a DFU upload: iBSS comes back as a recovery device with a new nonce', async () => {
      const info = await find(fixture.bus, fixture.dfu.portPath, IBootProductId.dfu);
      const client = await IBootClient.open(await open(info), { ecid: fixture.dfu.ecid });
      const apNonce = client.identity.apNonce ?? Buffer.alloc(0);
      const gone = waitForDetach(fixture.bus, info, waitMs);
      await client.uploadDfu(fixture.image('iBSS', { ecid: fixture.dfu.ecid, apNonce }), {
        statusPollIntervalMs: 50,
      });
      await gone;
      const back = await waitForDevice(
        fixture.bus,
        sameDevice(fixture.dfu.portPath, IBootProductId.recovery2),
        waitMs,
      );
      const after = await IBootClient.open(await open(back), { ecid: fixture.dfu.ecid });
      expect(after.mode).toBe('recovery');
      expect(after.identity.apNonce?.equals(apNonce)).toBe(false);
    });

    it('re-enumerates after a USB reset: new id, same port path', async () => {
      const info = await find(fixture.bus, fixture.dfu.portPath, IBootProductId.dfu);
      const handle = await open(info);
      const gone = waitForDetach(fixture.bus, info, waitMs);
      await handle.reset();
      await gone;
      const back = await waitForDevice(
        fixture.bus,
        (d) => d.portPath === info.portPath && d.vendorId === APPLE_USB_VENDOR_ID,
        waitMs,
      );
      expect(back.id).not.toBe(info.id);
      expect(back.portPath).toBe(info.portPath);
    });

    it("rejects with 'no-device' on a handle of a removed device, and when opening it", async () => {
      const info = await find(fixture.bus, fixture.recovery.portPath, IBootProductId.recovery2);
      const handle = await open(info);
      const gone = waitForDetach(fixture.bus, info, waitMs);
      await fixture.unplug(fixture.recovery.ecid);
      await gone;
      const error = await rejection(handle.controlIn(IBootRequest.readReply, 255));
      expect(error).toBeInstanceOf(UsbTransportError);
      expect((error as UsbTransportError).kind).toBe('no-device');
      expect(((await rejection(handle.bulkOut(0x04, Buffer.alloc(8)))) as UsbTransportError).kind).toBe(
        'no-device',
      );
      expect(((await rejection(fixture.bus.open(info))) as UsbTransportError).kind).toBe('no-device');
    });

    it("rejects with 'closed' on a closed handle", async () => {
      const handle = await open(await find(fixture.bus, fixture.recovery.portPath, IBootProductId.recovery2));
      await handle.close();
      expect(handle.closed).toBe(true);
      const error = await rejection(handle.getStringDescriptor(1));
      expect(error).toBeInstanceOf(UsbTransportError);
      expect((error as UsbTransportError).kind).toBe('closed');
      await handle.close();
    });
  });
}
