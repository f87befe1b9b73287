// Normal mode: read what lockdownd tells without pairing (model, versions, nonces), the battery
// when this host is paired, and EnterRecovery (restore-protocol §3.2).
import { parseEcid } from '@bench/bench-domain';
import type { LockdownBattery, PlistValue } from '@bench/protocols';
import { LockdownClient, readLockdownBattery } from '@bench/usb-transport';
import type { DeviceLocation } from '../locate/device-locator';
import type { AttemptContext } from '../attempt-context';

export interface NormalModeState {
  productType?: string;
  hardwareModel?: string;
  productVersion?: string;
  buildVersion?: string;
  apNonce?: Uint8Array;
  sepNonce?: Uint8Array;
  battery?: LockdownBattery;
}

type UsbmuxLocation = Extract<DeviceLocation, { via: 'usbmux' }>;

export async function readNormalModeState(
  context: AttemptContext,
  where: UsbmuxLocation,
  signal: AbortSignal,
): Promise<NormalModeState> {
  const lockdown = await LockdownClient.open(context.deps.usbmux, where.device.deviceId, {
    signal,
    receiveTimeoutMs: 10_000,
  });
  const state: NormalModeState = {};
  try {
    const values = await lockdown.getValue();
    const dict =
      values &&
      typeof values === 'object' &&
      !(values instanceof Uint8Array) &&
      !Array.isArray(values) &&
      !(values instanceof Date)
        ? values
        : {};
    const read = (key: string): PlistValue | undefined => (dict as Record<string, PlistValue>)[key];
    const text = (key: string) => (typeof read(key) === 'string' ? (read(key) as string) : undefined);
    const data = (key: string) => (read(key) instanceof Uint8Array ? (read(key) as Uint8Array) : undefined);
    const chipId = read('UniqueChipID');
    if (
      (typeof chipId === 'number' || typeof chipId === 'bigint') &&
      parseEcid(chipId) !== context.request.ecid
    ) {
      throw new Error(`lockdownd reports ECID ${String(chipId)}, not ${context.request.ecid}`);
    }
    state.productType = text('ProductType');
    state.hardwareModel = text('HardwareModel');
    state.productVersion = text('ProductVersion');
    state.buildVersion = text('BuildVersion');
    state.apNonce =
      data('ApNonce') ?? ((await lockdown.getValue(undefined, 'ApNonce')) as Uint8Array | undefined);
    state.sepNonce = data('SEPNonce');
    await lockdown.goodbye().catch(() => undefined);
  } finally {
    lockdown.close();
  }
  try {
    state.battery = await readLockdownBattery(
      context.deps.usbmux,
      { deviceId: where.device.deviceId, udid: where.udid },
      { signal, receiveTimeoutMs: 10_000 },
    );
  } catch (error) {
    // Not paired with this host (or the phone refused): the battery stays unknown; say so.
    context.logger.debug(`battery not readable: ${(error as Error).message}`);
  }
  return state;
}

/** EnterRecovery over a plain connection, then wait until the phone shows in recovery. */
export async function enterRecovery(
  context: AttemptContext,
  where: DeviceLocation,
  signal: AbortSignal,
): Promise<void> {
  if (where.via !== 'usbmux') return;
  const lockdown = await LockdownClient.open(context.deps.usbmux, where.device.deviceId, {
    signal,
    receiveTimeoutMs: 10_000,
  });
  try {
    await lockdown.enterRecovery();
  } finally {
    lockdown.close();
  }
  context.lastDeviceMessage = 'EnterRecovery';
  const arrived = await context.locator.waitFor((l) => l.mode === 'recovery', 120_000, signal);
  if (!arrived) {
    const { TransientUsbError } = await import('@bench/bench-domain');
    throw new TransientUsbError('the phone did not come back in recovery mode after EnterRecovery', {
      stage: 'enter-recovery',
    });
  }
}
