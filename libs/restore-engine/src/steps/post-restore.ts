// After StatusMsg 0 the phone reboots itself into iOS; the run is done only when lockdownd
// reports the target ProductVersion and BuildVersion (design §4.6).
import { BenchError, TransientUsbError } from '@bench/bench-domain';
import { LockdownClient } from '@bench/usb-transport';
import type { AttemptContext, PreparedRestore } from '../attempt-context';

export async function verifyInstalledBuild(
  context: AttemptContext,
  prepared: PreparedRestore,
  signal: AbortSignal,
): Promise<{ productVersion: string; buildVersion: string }> {
  const where = await context.locator.waitFor((l) => l.mode === 'normal', context.budgets.reboot, signal);
  if (!where || where.via !== 'usbmux') {
    throw new TransientUsbError('the phone did not come back in normal mode after the restore', {
      stage: 'reboot',
    });
  }
  context.emit({ type: 'device', mode: 'normal', ecid: context.request.ecid, portPath: where.portPath });
  const lockdown = await LockdownClient.open(context.deps.usbmux, where.device.deviceId, {
    signal,
    receiveTimeoutMs: 10_000,
  });
  try {
    const productVersion = String((await lockdown.getValue(undefined, 'ProductVersion')) ?? '');
    const buildVersion = String((await lockdown.getValue(undefined, 'BuildVersion')) ?? '');
    await lockdown.goodbye().catch(() => undefined);
    if (buildVersion !== prepared.targetBuild || productVersion !== prepared.targetVersion) {
      throw new BenchError(
        `the phone booted iOS ${productVersion} (${buildVersion}), not the target ${prepared.targetVersion} (${prepared.targetBuild})`,
        'unknown',
        {
          stage: 'reboot',
          lastDeviceMessage: `ProductVersion ${productVersion} BuildVersion ${buildVersion}`,
        },
      );
    }
    return { productVersion, buildVersion };
  } finally {
    lockdown.close();
  }
}
