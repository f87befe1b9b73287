// The iBoot part of the restore (restore-protocol §3.3–3.5): iBSS from DFU, iBEC from recovery,
// then the ramdisk, device tree, trust caches and kernel cache, and `bootx` into restore mode.
// Each image is personalized for the nonce the device shows now.
import { StuckError, TransientUsbError } from '@bench/bench-domain';
import { IBootClient, openIBootDevice, waitForDetach, type UploadProgress } from '@bench/usb-transport';
import type { DeviceLocation } from '../locate/device-locator';
import type { AttemptContext, PreparedRestore } from '../attempt-context';

type UsbLocation = Extract<DeviceLocation, { via: 'usb' }>;

async function open(
  context: AttemptContext,
  where: DeviceLocation,
  signal: AbortSignal,
): Promise<IBootClient> {
  if (where.via !== 'usb')
    throw new TransientUsbError(`expected the phone on the USB bus, found it in ${where.mode} mode`);
  return openIBootDevice(context.deps.bus, {
    ecid: context.request.ecid,
    portPath: where.portPath,
    retry: { attempts: 5, intervalMs: 1_000 },
    signal,
  });
}

function uploadProgress(context: AttemptContext) {
  return (progress: UploadProgress) =>
    context.emit({
      type: 'progress',
      stage: context.stage,
      percent: progress.percent,
      bytesSent: progress.sent,
      bytesTotal: progress.total,
    });
}

async function personalizedFor(
  client: IBootClient,
  prepared: PreparedRestore,
  component: string,
  signal: AbortSignal,
) {
  const { identity } = client;
  await prepared.personalizer.ticketFor(
    {
      apNonce: identity.apNonce,
      sepNonce: identity.sepNonce,
      productionMode: identity.cpfm === undefined ? true : (identity.cpfm & 2) !== 0,
      securityMode: identity.cpfm === undefined ? true : (identity.cpfm & 1) !== 0,
    },
    signal,
  );
  return prepared.personalizer.image(component);
}

/** Waits for this enumeration to leave, then for the phone to come back (any iBoot mode). */
async function awaitReenumeration(
  context: AttemptContext,
  client: IBootClient,
  disconnectMs: number,
  reconnectMs: number,
  signal: AbortSignal,
  what: string,
): Promise<DeviceLocation> {
  const old = client.device;
  await client.close().catch(() => undefined);
  try {
    await waitForDetach(context.deps.bus, old, disconnectMs, signal);
  } catch (error) {
    signal.throwIfAborted();
    throw new StuckError(`the phone did not disconnect after ${what}: the image was not accepted`, {
      stage: context.stage,
      detail: (error as Error).message,
    });
  }
  const back = await context.locator.waitFor(
    (l) => !(l.via === 'usb' && l.device.id === old.id),
    reconnectMs,
    signal,
  );
  if (!back)
    throw new TransientUsbError(`the phone did not reconnect after ${what}`, { stage: context.stage });
  context.emit({
    type: 'device',
    mode: back.mode,
    ecid: context.request.ecid,
    portPath: back.portPath,
    serialNumber: back.via === 'usb' ? back.serialNumber : undefined,
  });
  return back;
}

/** DFU → iBSS: DFU upload with finish and reset; the phone comes back in recovery running iBSS. */
export async function sendIbss(
  context: AttemptContext,
  prepared: PreparedRestore,
  where: UsbLocation,
  signal: AbortSignal,
): Promise<void> {
  const client = await open(context, where, signal);
  try {
    const image = await personalizedFor(client, prepared, 'iBSS', signal);
    await client.uploadDfu(image, { onProgress: uploadProgress(context), signal });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  context.lastDeviceMessage = 'iBSS sent';
  const back = await awaitReenumeration(context, client, 10_000, 10_000, signal, 'iBSS');
  if (back.mode === 'dfu') {
    throw new TransientUsbError(
      'the phone came back in DFU: the iBSS was refused (a damaged transfer or a bad signature)',
      {
        stage: 'send-ibss',
      },
    );
  }
}

/** recovery (iBoot or iBSS) → iBEC: upload, `go`, and the phone comes back running iBEC. */
export async function sendIbec(
  context: AttemptContext,
  prepared: PreparedRestore,
  where: UsbLocation,
  signal: AbortSignal,
): Promise<void> {
  const client = await open(context, where, signal);
  try {
    const image = await personalizedFor(client, prepared, 'iBEC', signal);
    await client.uploadRecovery(image, { onProgress: uploadProgress(context), signal });
    await context.clock.sleep(1_000, signal);
    await client.go();
    if (buildMajor(prepared.targetBuild) < 20) await client.kick();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  context.lastDeviceMessage = 'iBEC go';
  const back = await awaitReenumeration(context, client, 60_000, 60_000, signal, 'iBEC');
  if (back.mode !== 'recovery') {
    throw new TransientUsbError(`the phone came back in ${back.mode} mode after iBEC`, {
      stage: 'send-ibec',
    });
  }
  prepared.ibecDeviceId = back.device.id;
}

/** iBEC → restore mode: loaded firmware, ramdisk, device tree, SEP, kernel cache, `bootx`. */
export async function bootRamdisk(
  context: AttemptContext,
  prepared: PreparedRestore,
  where: UsbLocation,
  signal: AbortSignal,
): Promise<void> {
  const client = await open(context, where, signal);
  const { personalizer } = prepared;
  const components = personalizer.identity.components;
  try {
    await personalizedFor(client, prepared, 'RestoreRamDisk', signal); // the ticket for this nonce
    for (const name of ['build-version', 'build-style', 'boot-stage']) {
      const value = await client.getenv(name).catch(() => undefined);
      if (value !== undefined)
        context.emit({ type: 'device-log', stage: 'boot-ramdisk', text: `${name}=${value}` });
    }
    await client.setenv('auto-boot', 'false');
    await client.saveenv();
    const upload = async (component: string, command: string) => {
      const image = await personalizer.image(component);
      await client.uploadRecovery(image, { onProgress: uploadProgress(context), signal });
      await client.sendCommand(command);
      context.lastDeviceMessage = `${component} → ${command}`;
    };
    // Firmware iBoot loads itself in stage 2 (trust caches, co-processors), before the ramdisk.
    for (const component of Object.values(components)) {
      if (component.isLoadedByiBoot && !component.isLoadedByiBootStage1 && component.path) {
        await upload(component.name, 'firmware');
      }
    }
    await upload('RestoreRamDisk', 'ramdisk');
    await context.clock.sleep(2_000, signal);
    await upload('RestoreDeviceTree', 'devicetree');
    if (personalizer.hasComponent('RestoreSEP')) await upload('RestoreSEP', 'rsepfirmware');
    const kernel = await personalizer.image('RestoreKernelCache');
    await client.uploadRecovery(kernel, { onProgress: uploadProgress(context), signal });
    await client.kick();
    await client.setenv('boot-args', 'rd=md0 nand-enable-reformat=1 -progress');
    await client.bootx();
    context.lastDeviceMessage = 'bootx';
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  const old = client.device;
  await client.close().catch(() => undefined);
  try {
    await waitForDetach(context.deps.bus, old, 30_000, signal);
  } catch (error) {
    signal.throwIfAborted();
    throw new StuckError('failed to place the phone in restore mode: it stayed in recovery after bootx', {
      stage: 'boot-ramdisk',
      detail: (error as Error).message,
    });
  }
  const arrived = await context.locator.waitFor(
    (l) => l.via === 'usbmux' || (l.via === 'usb' && l.device.id !== old.id),
    300_000,
    signal,
  );
  if (!arrived)
    throw new TransientUsbError('the phone did not come back in restore mode after bootx', {
      stage: 'boot-ramdisk',
    });
  if (arrived.mode !== 'restore') {
    throw new StuckError(
      `the phone came back in ${arrived.mode} mode after bootx: most likely an image was refused`,
      {
        stage: 'boot-ramdisk',
        lastDeviceMessage: 'bootx',
      },
    );
  }
  context.emit({ type: 'device', mode: 'restore', ecid: context.request.ecid, portPath: arrived.portPath });
}

function buildMajor(build: string): number {
  const match = /^(\d+)/.exec(build);
  return match ? Number(match[1]) : 0;
}
