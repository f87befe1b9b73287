import { findModel, type SimModel } from '../models';
import type { SeededRandom } from '../time/random';
import type { SimClock } from '../time/sim-clock';
import { SimPhone, type BootStage } from './sim-phone';

export interface NewPhoneOptions {
  productType: string;
  stage?: BootStage;
  productVersion?: string;
  buildVersion?: string;
  batteryLevel?: number;
  ecid?: bigint;
}

const SERIAL_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

/** Builds a phone with a plausible, seed-determined identity. */
export function createPhone(options: NewPhoneOptions, clock: SimClock, random: SeededRandom): SimPhone {
  const model: SimModel = findModel(options.productType);
  const phoneRandom = random.fork();
  // ECIDs fit in 52 bits in practice; keep them there so every peer can hold them exactly.
  const ecid =
    options.ecid ??
    BigInt(phoneRandom.int(1, 0x0fffff)) * 0x100000000n + BigInt(phoneRandom.int(0, 0xffffffff));
  const ecidHex = ecid.toString(16).toUpperCase().padStart(16, '0');
  const serialNumber = Array.from({ length: 12 }, () => phoneRandom.pick([...SERIAL_ALPHABET])).join('');
  return new SimPhone({
    identity: {
      model,
      ecid,
      ecidHex,
      serialNumber,
      udid: `${model.cpid.toString(16).toUpperCase().padStart(8, '0')}-${ecidHex}`,
    },
    stage: options.stage ?? 'ios',
    productVersion: options.productVersion ?? '16.7.10',
    buildVersion: options.buildVersion ?? '20H350',
    battery: {
      level: options.batteryLevel ?? phoneRandom.int(35, 96),
      charging: false,
      externalConnected: false,
      voltageMv: 3_900,
      temperatureCentiC: 2_950,
      cycleCount: phoneRandom.int(50, 900),
    },
    clock,
    random: phoneRandom,
  });
}
