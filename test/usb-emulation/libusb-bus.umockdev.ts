// Runs inside the umockdev testbed (started by test/integration/usb-emulation-libusb.test.ts):
// the real LibusbBus — node `usb` and its bundled libusb — against phones the simulator emulates
// at the usbdevfs level. The same conformance suite the simulated bus passes, then hotplug timing
// and what an open handle of a removed device gets from usbdevfs.
import { describeUsbBusConformance } from '@bench/testing';
import { IBootRequest } from '@bench/protocols';
import {
  createLibusbBus,
  UsbTransportError,
  waitForDetach,
  waitForDevice,
  type UsbHotplugEvent,
} from '@bench/usb-transport';
import { control, freshPhone, remoteBench, remoteFixture } from './remote-fixture';

const bench = remoteBench();

// Recovery on the first controller's hub, DFU on the second controller's: two buses, two hubs.
describeUsbBusConformance(
  'LibusbBus under umockdev',
  remoteFixture(bench, { recovery: '1-1.1', dfu: '2-1.2' }),
  {
    waitMs: 5_000,
    testTimeoutMs: 30_000,
  },
);

describe('LibusbBus hotplug under umockdev', () => {
  it('reports attach and detach with the right port paths within 1 s', async () => {
    const bus = createLibusbBus();
    const events: (UsbHotplugEvent & { at: number })[] = [];
    const unwatch = bus.watch((event) => events.push({ ...event, at: Date.now() }));
    const next = async (type: UsbHotplugEvent['type'], portPath: string, since: number) => {
      const deadline = Date.now() + 1_000;
      while (Date.now() < deadline) {
        const event = events.find((e) => e.type === type && e.device.portPath === portPath && e.at >= since);
        if (event) return event;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(
        `no ${type} on ${portPath} within 1 s; saw ${JSON.stringify(events.map((e) => [e.type, e.device.portPath]))}`,
      );
    };
    try {
      for (const [port, stage] of [
        ['1-1.5', 'iboot'],
        ['2-1.3', 'secure-rom'],
      ]) {
        const added = Date.now();
        const phone = await freshPhone(bench, port, stage);
        const first = await next('attach', port, added);
        expect(first.at - added).toBeLessThan(1_000);
        const pulled = Date.now();
        await control(bench, 'POST', `/phones/${phone.ecid}/unplug`);
        const detach = await next('detach', port, pulled);
        expect(detach.at - pulled).toBeLessThan(1_000);
        const plugged = Date.now();
        await control(bench, 'POST', `/phones/${phone.ecid}/plug`, { port });
        const attach = await next('attach', port, plugged);
        expect(attach.at - plugged).toBeLessThan(1_000);
        expect(attach.device).toMatchObject({ vendorId: 0x05ac, busNumber: Number(port[0]), speed: 'high' });
        expect(attach.device.id).not.toBe(detach.device.id);
        expect(attach.device.address).not.toBe(detach.device.address);
      }
    } finally {
      unwatch();
      await bus.close();
    }
  });
});

describe('usbdevfs after a removal', () => {
  it('an open handle of a removed device gets ENODEV from libusb itself', async () => {
    // `quiet` never watches or lists again, so its handle cannot know the device left: the
    // request reaches libusb and the emulated usbfs, which answers ENODEV as the kernel does.
    const quiet = createLibusbBus();
    const watcher = createLibusbBus();
    try {
      const phone = await freshPhone(bench, '1-1.6', 'iboot');
      const info = await waitForDevice(quiet, (d) => d.portPath === '1-1.6' && d.productId === 0x1281, 5_000);
      const handle = await quiet.open(info);
      expect((await handle.getStringDescriptor(info.serialNumberIndex)).length).toBeGreaterThan(0);
      const seen = await waitForDevice(
        watcher,
        (d) => d.portPath === '1-1.6' && d.productId === 0x1281,
        5_000,
      );
      const gone = waitForDetach(watcher, seen, 5_000);
      await control(bench, 'POST', `/phones/${phone.ecid}/unplug`);
      await gone;
      const error: unknown = await handle.controlIn(IBootRequest.readReply, 255).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UsbTransportError);
      expect(error).toMatchObject({
        kind: 'no-device',
        message: expect.stringMatching(/LIBUSB_(ERROR|TRANSFER)_NO_DEVICE/),
      });
    } finally {
      await quiet.close();
      await watcher.close();
    }
  });
});
