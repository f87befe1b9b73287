// Getting a phone out of where it is stuck: the exit-recovery-loop action (`setenv auto-boot
// true`, `saveenv`, `reboot`, as the idevicerestore maintainers advise) for recovery mode, and
// restored's Reboot for restore mode.
import { TransientUsbError, type Ecid } from '@bench/bench-domain';
import { openIBootDevice, RestoredClient, type UsbBus, type UsbmuxClient } from '@bench/usb-transport';
import type { EngineLogger } from '../engine-types';
import { SILENT_LOGGER } from '../engine-types';
import { DeviceLocator } from '../locate/device-locator';

export type KickOutResult =
  | { action: 'exit-recovery-loop'; from: 'recovery' }
  | { action: 'reboot'; from: 'restore' }
  | { action: 'none'; from: 'normal' | 'dfu' | 'port-dfu' | 'wtf'; reason: string };

/** Recovery: make iBoot boot iOS from now on, and reboot. */
export async function exitRecoveryLoop(
  bus: UsbBus,
  ecid: Ecid,
  options: { portPath?: string; signal?: AbortSignal } = {},
): Promise<void> {
  const client = await openIBootDevice(bus, {
    ecid,
    portPath: options.portPath,
    modes: ['recovery'],
    retry: { attempts: 3, intervalMs: 1_000 },
    signal: options.signal,
  });
  try {
    await client.setenv('auto-boot', 'true');
    await client.saveenv();
    await client.reboot();
  } finally {
    await client.close().catch(() => undefined);
  }
}

export async function kickOut(
  deps: { bus: UsbBus; usbmux: UsbmuxClient; logger?: EngineLogger },
  ecid: Ecid,
  options: { portPath?: string; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<KickOutResult> {
  const locator = new DeviceLocator(
    deps.bus,
    deps.usbmux,
    ecid,
    options.portPath,
    deps.logger ?? SILENT_LOGGER,
  );
  const where = await locator.waitFor(() => true, options.timeoutMs ?? 10_000, options.signal);
  if (!where) throw new TransientUsbError(`the phone ${ecid} is not attached`);
  switch (where.mode) {
    case 'recovery':
      await exitRecoveryLoop(deps.bus, ecid, { portPath: where.portPath, signal: options.signal });
      return { action: 'exit-recovery-loop', from: 'recovery' };
    case 'restore': {
      const restored = await RestoredClient.open(deps.usbmux, where.device.deviceId, {
        receiveTimeoutMs: 10_000,
      });
      try {
        await restored.reboot();
      } finally {
        restored.close();
      }
      return { action: 'reboot', from: 'restore' };
    }
    case 'normal':
      return { action: 'none', from: 'normal', reason: 'the phone already runs iOS' };
    default:
      return {
        action: 'none',
        from: where.mode,
        reason: 'DFU is left only by a restore or a forced restart (hold the buttons)',
      };
  }
}
