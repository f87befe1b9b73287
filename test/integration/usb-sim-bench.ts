// A small simulated bench for the USB integration tests: a fast clock, the simulator's signing
// key, a SimulatedUsbBus and phones on ports, plus personalized images for a phone as it shows now.
import { randomBytes } from 'node:crypto';
import {
  createPhone,
  NO_FAULTS,
  personalizeForDevice,
  SeededRandom,
  SimClock,
  SimulatedUsbBus,
  type BootStage,
  type PhoneFaults,
  type SimPhone,
  type SimUsbTopology,
} from '@bench/device-sim';
import type { IBootClient } from '@bench/usb-transport';

export interface SimBench {
  clock: SimClock;
  bus: SimulatedUsbBus;
  key: Buffer;
  random: SeededRandom;
  /** A phone plugged into `port`. */
  phone(port: string, stage: BootStage, productType?: string): SimPhone;
  /** An image for the device behind `client`, personalized for the nonce it shows (or `apNonce`). */
  imageFor(
    client: IBootClient,
    phone: SimPhone,
    component: string,
    options?: { bytes?: number; apNonce?: Uint8Array },
  ): Buffer;
  /** Every note the phones emitted, in order. */
  notes: { ecid: string; kind: string; detail: Record<string, unknown> }[];
  close(): Promise<void>;
}

export interface SimBenchOptions {
  speed?: number;
  topology?: SimUsbTopology;
  faults?: PhoneFaults;
  restoreBootDelayMs?: number;
}

export function simBench(options: SimBenchOptions = {}): SimBench {
  const clock = new SimClock(options.speed ?? 50);
  const random = new SeededRandom(11);
  const key = randomBytes(32);
  const bus = new SimulatedUsbBus({
    clock,
    personalizationKey: key,
    topology: options.topology,
    faults: options.faults ?? NO_FAULTS,
    restoreBootDelayMs: options.restoreBootDelayMs,
  });
  const notes: SimBench['notes'] = [];
  return {
    clock,
    bus,
    key,
    random,
    notes,
    phone(port, stage, productType = 'iPhone10,1') {
      const phone = createPhone({ productType, stage }, clock, random);
      phone.on('note', (kind, detail) => notes.push({ ecid: phone.identity.ecidHex, kind, detail }));
      bus.plug(port, phone);
      return phone;
    },
    imageFor(client, phone, component, options = {}) {
      const { model, ecid } = phone.identity;
      return personalizeForDevice({
        component,
        payload: randomBytes(options.bytes ?? 64 * 1024),
        ecid,
        apNonce: options.apNonce ?? client.identity.apNonce ?? Buffer.alloc(32),
        cpid: model.cpid,
        bdid: model.bdid,
        key,
      });
    },
    close: () => bus.close(),
  };
}
