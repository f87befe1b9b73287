// The conformance fixture of a LibusbBus inside the testbed, for a simulated bench hosted by the
// parent test: phones are added, pulled and re-plugged through the simulator's control API, and
// images are personalized with the bench's key. The parent passes both in the environment.
import { parseEcid } from '@bench/bench-domain';
import { personalizeForDevice, SIM_MODELS, type PhoneSnapshot } from '@bench/device-sim';
import type { ConformanceDevice, UsbBusFixture } from '@bench/testing';
import { createLibusbBus, waitForDevice, type LibusbBus } from '@bench/usb-transport';

export const CONTROL_ENV = 'BENCH_USB_EMULATION_CONTROL';
export const KEY_ENV = 'BENCH_USB_EMULATION_KEY';

export interface RemoteBench {
  control: string;
  key: Buffer;
}

export function remoteBench(): RemoteBench {
  const control = process.env[CONTROL_ENV];
  const key = process.env[KEY_ENV];
  if (!control || !key || !process.env.UMOCKDEV_DIR) {
    throw new Error(
      `run under the USB emulation (test/usb-emulation/README.md): ${CONTROL_ENV}, ${KEY_ENV} and UMOCKDEV_DIR are needed`,
    );
  }
  return { control, key: Buffer.from(key, 'hex') };
}

/** One call to the simulator's control API. */
export async function control<T>(
  bench: RemoteBench,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${bench.control}${route}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${json.error ?? ''}`);
  return json;
}

/** Empties `port` and plugs a new phone in `stage` into it. */
export async function freshPhone(bench: RemoteBench, port: string, stage: string): Promise<PhoneSnapshot> {
  const phones = await control<PhoneSnapshot[]>(bench, 'GET', '/phones');
  for (const phone of phones.filter((p) => p.port === port)) {
    await control(bench, 'POST', `/phones/${phone.ecid}/unplug`);
  }
  return control<PhoneSnapshot>(bench, 'POST', '/phones', { productType: 'iPhone10,1', stage, port });
}

const PRODUCT_IDS: Record<string, number> = { iboot: 0x1281, 'secure-rom': 0x1227 };

export function remoteFixture(
  bench: RemoteBench,
  ports: { recovery: string; dfu: string },
  waitMs = 5_000,
): () => Promise<UsbBusFixture> {
  return async () => {
    const bus: LibusbBus = createLibusbBus();
    const before = new Set((await bus.list()).map((d) => d.id));
    const recovery = await freshPhone(bench, ports.recovery, 'iboot');
    const dfu = await freshPhone(bench, ports.dfu, 'secure-rom');
    // libusb follows the testbed's uevents asynchronously (as it follows the kernel's): wait
    // until it lists the new enumerations, not the ones they replaced.
    for (const [phone, stage] of [
      [recovery, 'iboot'],
      [dfu, 'secure-rom'],
    ] as const) {
      await waitForDevice(
        bus,
        (d) => d.portPath === phone.port && d.productId === PRODUCT_IDS[stage] && !before.has(d.id),
        waitMs,
      );
    }
    const ports_ = new Map([
      [recovery.ecid, ports.recovery],
      [dfu.ecid, ports.dfu],
    ]);
    const device = (phone: PhoneSnapshot): ConformanceDevice => ({
      ecid: phone.ecid,
      portPath: phone.port ?? '',
    });
    return {
      bus,
      recovery: device(recovery),
      dfu: device(dfu),
      image(component, target) {
        const model = SIM_MODELS.find((m) => m.productType === 'iPhone10,1');
        if (!model) throw new Error('iPhone10,1 is not a simulated model');
        return personalizeForDevice({
          component,
          payload: Buffer.alloc(component === 'iBSS' ? 300_000 : 700_000, 0x5a),
          ecid: BigInt(`0x${parseEcid(target.ecid)}`),
          apNonce: target.apNonce,
          cpid: model.cpid,
          bdid: model.bdid,
          key: bench.key,
        });
      },
      async unplug(ecid) {
        await control(bench, 'POST', `/phones/${parseEcid(ecid)}/unplug`);
      },
      async replug(ecid) {
        await control(bench, 'POST', `/phones/${parseEcid(ecid)}/plug`, {
          port: ports_.get(parseEcid(ecid)),
        });
      },
      dispose: () => bus.close(),
    };
  };
}
