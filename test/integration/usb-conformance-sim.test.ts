// The UsbBus conformance suite on the simulator's bus: two phones on the default topology's
// per-port-switching hub, one in recovery (iBoot) and one in DFU, with real personalization
// (the simulator's ticket key) and a fast clock. LibusbBus runs the same suite under umockdev.
import { randomBytes } from 'node:crypto';
import { parseEcid } from '@bench/bench-domain';
import {
  createPhone,
  personalizeForDevice,
  SeededRandom,
  SimClock,
  SimulatedUsbBus,
  type SimPhone,
} from '@bench/device-sim';
import { describeUsbBusConformance, type UsbBusFixture } from '@bench/testing';

async function simFixture(): Promise<UsbBusFixture> {
  const clock = new SimClock(50);
  const random = new SeededRandom(7);
  const key = randomBytes(32);
  const bus = new SimulatedUsbBus({ clock, personalizationKey: key });
  const recovery = createPhone({ productType: 'iPhone10,1', stage: 'iboot' }, clock, random);
  const dfu = createPhone({ productType: 'iPhone13,2', stage: 'secure-rom' }, clock, random);
  bus.plug('1-1.1', recovery);
  bus.plug('1-1.2', dfu);
  const phones = new Map<string, { phone: SimPhone; port: string }>([
    [recovery.identity.ecidHex, { phone: recovery, port: '1-1.1' }],
    [dfu.identity.ecidHex, { phone: dfu, port: '1-1.2' }],
  ]);
  const byEcid = (ecid: string) => {
    const entry = phones.get(parseEcid(ecid));
    if (!entry) throw new Error(`no phone ${ecid}`);
    return entry;
  };
  return {
    bus,
    recovery: { ecid: recovery.identity.ecidHex, portPath: '1-1.1' },
    dfu: { ecid: dfu.identity.ecidHex, portPath: '1-1.2' },
    image(component, device) {
      const { phone } = byEcid(device.ecid);
      const { model, ecid } = phone.identity;
      return personalizeForDevice({
        component,
        payload: randomBytes(component === 'iBSS' ? 300_000 : 700_000),
        ecid,
        apNonce: device.apNonce,
        cpid: model.cpid,
        bdid: model.bdid,
        key,
      });
    },
    async unplug(ecid) {
      bus.unplug(byEcid(ecid).port);
    },
    async replug(ecid) {
      const { phone, port } = byEcid(ecid);
      bus.plug(port, phone);
    },
    dispose: () => bus.close(),
  };
}

describeUsbBusConformance('SimulatedUsbBus', simFixture, { waitMs: 5_000 });
