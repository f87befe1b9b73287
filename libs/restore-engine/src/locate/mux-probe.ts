// Who a phone behind usbmuxd is, asked of the phone itself: lockdownd answers in normal mode
// (its ECID, and with `details` what a record wants: model, version, serial), restored in
// restore mode (the ECID from HardwareInfo). Shared by the engine's locator and the agent's
// watcher, so both tell normal from restore mode the same way.
import { parseEcid, type Ecid } from '@bench/bench-domain';
import { LOCKDOWN_SERVICE_TYPE, RESTORED_SERVICE_TYPE } from '@bench/protocols';
import { LockdownClient, RestoredClient, type UsbmuxClient } from '@bench/usb-transport';

export interface MuxProbe {
  mode?: 'normal' | 'restore';
  ecid?: Ecid;
  productType?: string;
  productVersion?: string;
  buildVersion?: string;
  serialNumber?: string;
}

const PROBE_TIMEOUT_MS = 5_000;
/** A modern UDID is `CPID-ECID` (8 and 16 hex digits); older ones are 40 hex digits with no ECID. */
const MODERN_UDID = /^[0-9A-F]{8}-([0-9A-F]{16})$/i;

/** The ECID a usbmux UDID carries, when it is a modern one. */
export function ecidOfUdid(udid: string): Ecid | undefined {
  const modern = MODERN_UDID.exec(udid);
  return modern ? parseEcid(`0x${modern[1]}`) : undefined;
}

/** Asks the phone behind usbmux `deviceId`; throws when it does not answer (the caller decides). */
export async function probeMuxDevice(
  usbmux: UsbmuxClient,
  deviceId: number,
  { knownEcid, details = false }: { knownEcid?: Ecid; details?: boolean } = {},
): Promise<MuxProbe> {
  const probe: MuxProbe = { ecid: knownEcid };
  const lockdown = await LockdownClient.open(usbmux, deviceId, { receiveTimeoutMs: PROBE_TIMEOUT_MS });
  try {
    const type = await lockdown.queryType();
    if (type === LOCKDOWN_SERVICE_TYPE) {
      probe.mode = 'normal';
      const read = (key: string) => lockdown.getValue(undefined, key);
      if (details || !probe.ecid) {
        const chip = await read('UniqueChipID');
        if (typeof chip === 'number' || typeof chip === 'bigint') probe.ecid = parseEcid(chip);
      }
      if (details) {
        const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
        probe.productType = text(await read('ProductType'));
        probe.productVersion = text(await read('ProductVersion'));
        probe.buildVersion = text(await read('BuildVersion'));
        // For reports and certificates; a phone that will not tell it unpaired is still identified.
        probe.serialNumber = text(await read('SerialNumber').catch(() => undefined));
      }
    } else if (type === RESTORED_SERVICE_TYPE) {
      probe.mode = 'restore';
    }
    await lockdown.goodbye().catch(() => undefined);
  } finally {
    lockdown.close();
  }
  if (probe.mode === 'restore' && !probe.ecid) {
    const restored = await RestoredClient.open(usbmux, deviceId, { receiveTimeoutMs: PROBE_TIMEOUT_MS });
    try {
      probe.ecid = parseEcid((await restored.hardwareInfo()).uniqueChipId);
      await restored.goodbye().catch(() => undefined);
    } finally {
      restored.close();
    }
  }
  return probe;
}
