// Restore mode (restore-protocol §3.6–3.8, §4): restored's handshake, StartRestore, then the
// device's message stream as a MsgType → handler table and a DataType → data table. The
// filesystem goes over ASR from the IPSW member, read at random offsets, never whole.
import {
  FirmwareInvalidError,
  StuckError,
  TransientUsbError,
  parseEcid,
  type RandomAccessSource,
  type Stage,
} from '@bench/bench-domain';
import {
  buildRestoreOptions,
  progressOperationName,
  restoredReplies,
  type PlistDict,
  type RestoredMessageOf,
} from '@bench/protocols';
import {
  AsrError,
  AsrSender,
  FdrClient,
  RestoredClient,
  type DevicePortConnector,
  type RestoredHandlerContext,
} from '@bench/usb-transport';
import type { DeviceLocation } from '../locate/device-locator';
import { readArrivedNotices } from './arrived-notices';
import type { AttemptContext, PreparedRestore, StageScope } from '../attempt-context';

type UsbmuxLocation = Extract<DeviceLocation, { via: 'usbmux' }>;

/** Which stage a ProgressMsg operation belongs to (the device drives the restore from here on). */
const OPERATION_STAGES: Record<number, Stage> = {
  11: 'restored-connect', // partition map
  12: 'restored-connect', // filesystem
  13: 'send-filesystem', // restoring image
  14: 'verify',
  15: 'verify',
  16: 'verify',
  18: 'flash-firmware',
  35: 'flash-firmware',
  58: 'flash-firmware',
  19: 'baseband',
  48: 'baseband',
  49: 'baseband',
  51: 'baseband',
  26: 'flash-firmware', // installing root
  27: 'flash-firmware', // installing kernelcache
  61: 'flash-firmware', // installing DeviceTree
  17: 'finalize', // fixing up /var
  20: 'finalize',
  24: 'finalize',
  25: 'finalize',
  29: 'finalize',
  46: 'finalize',
  50: 'finalize', // creating system key bag
};

/** restored's own battery operations: the phone is short of power (design §6 `power`). */
const BATTERY_OPERATIONS = new Set([38, 39]);

export async function runRestoreSession(
  context: AttemptContext,
  prepared: PreparedRestore,
  where: UsbmuxLocation,
  scope: StageScope,
): Promise<void> {
  const { usbmux } = context.deps;
  const deviceId = where.device.deviceId;
  const signal = scope.signal;
  const connect: DevicePortConnector = (port, portSignal) =>
    usbmux.connect(deviceId, port, { signal: portSignal ?? signal });
  const restored = await RestoredClient.open(usbmux, deviceId, { connect, receiveTimeoutMs: 30_000 });
  let fdr: FdrClient | undefined;
  try {
    const type = await restored.queryType();
    const hardware = await restored.hardwareInfo();
    if (parseEcid(hardware.uniqueChipId) !== context.request.ecid) {
      throw new TransientUsbError(
        `restored reports ECID ${hardware.uniqueChipId.toString(16)}, not ${context.request.ecid}`,
      );
    }
    // FDR is optional for a restore (idevicerestore carries on without it).
    fdr = await FdrClient.open(connect, signal)
      .then(async (client) => {
        await client.handshake();
        return client;
      })
      .catch(() => undefined);
    const sep = prepared.personalizer.identity.components.SEP?.raw.Info;
    const capacity =
      sep && typeof sep === 'object' && 'RequiredCapacity' in sep
        ? (sep as PlistDict).RequiredCapacity
        : undefined;
    await restored.startRestore(
      buildRestoreOptions({
        tz0RequiredCapacity: typeof capacity === 'number' ? capacity : undefined,
        restoreBootArgs: 'rd=md0 nand-enable-reformat=1 -progress',
      }),
      type.restoreProtocolVersion,
    );
    context.lastDeviceMessage = 'StartRestore';
    const session = new SessionHandlers(context, prepared, scope, connect, type.restoreProtocolVersion);
    await restored.runMessageLoop(
      {
        DataRequestMsg: (message, handlerContext) => session.dataRequest(message, handlerContext),
        ProgressMsg: (message) => session.progress(message),
        CheckpointMsg: (message) =>
          session.deviceLog(
            `checkpoint ${message.raw.CHECKPOINT_NAME ?? ''} ${message.raw.CHECKPOINT_RESULT ?? ''}`.trim(),
          ),
        PreviousRestoreLogMsg: (message) => session.deviceLog(String(message.raw.PreviousRestoreLog ?? '')),
      },
      { signal },
    );
    context.lastDeviceMessage = 'StatusMsg 0';
    scope.switch('finalize');
    await restored.goodbye().catch(() => undefined);
  } finally {
    fdr?.close();
    restored.close();
  }
}

class SessionHandlers {
  private filesystemStarted?: number;

  constructor(
    private readonly context: AttemptContext,
    private readonly prepared: PreparedRestore,
    private readonly scope: StageScope,
    private readonly connect: DevicePortConnector,
    private readonly protocolVersion: number,
  ) {}

  async dataRequest(
    message: RestoredMessageOf<'DataRequestMsg'>,
    handler: RestoredHandlerContext,
  ): Promise<void> {
    const { personalizer } = this.prepared;
    this.context.lastDeviceMessage = `DataRequestMsg ${message.dataType}`;
    let reply: PlistDict | undefined;
    switch (message.dataType) {
      case 'SystemImageData':
        try {
          await this.sendFilesystem(message.dataPort, handler.signal);
        } catch (error) {
          // While we streamed, the device may have said why it is going (a battery warning on
          // restored's connection, unread because this handler holds the message loop): read
          // what already arrived before the failure is classified.
          if (!handler.signal.aborted)
            await readArrivedNotices(handler.client, (notice) => {
              if (notice.msgType === 'ProgressMsg') this.progress(notice);
            });
          throw error;
        }
        return;
      case 'RootTicket':
        reply = restoredReplies.rootTicket(personalizer.lastTicket);
        break;
      case 'KernelCache':
        reply = restoredReplies.kernelCache(await personalizer.image('KernelCache'));
        break;
      case 'DeviceTree':
        reply = restoredReplies.deviceTree(await personalizer.image('DeviceTree'));
        break;
      case 'NORData':
        reply = await this.norData();
        break;
      case 'FDRTrustData':
        reply = restoredReplies.fdrTrustData();
        break;
      default:
        // idevicerestore logs and carries on; so do we, and the device decides.
        this.context.emit({
          type: 'device-log',
          stage: this.context.stage,
          text: `unknown data request ${message.dataType}`,
        });
        return;
    }
    if (message.dataPort !== undefined) {
      const side = await handler.client.openDataPort(message.dataPort, handler.signal);
      try {
        await side.send(reply);
      } finally {
        side.close();
      }
    } else {
      await handler.client.send(reply);
    }
  }

  progress(message: RestoredMessageOf<'ProgressMsg'>): void {
    const name = progressOperationName(message.operation, this.protocolVersion);
    this.context.lastDeviceMessage = `ProgressMsg ${name} (${message.operation}) ${message.progress}`;
    if (BATTERY_OPERATIONS.has(message.operation))
      this.context.batteryFailing = `restored reported "${name}"`;
    const stage = OPERATION_STAGES[message.operation];
    if (stage) this.scope.switch(stage);
    const percent = message.progress >= 1 && message.progress <= 100 ? message.progress : 0;
    // During the filesystem upload our own byte count is the better bar.
    if (this.context.stage === 'send-filesystem' && this.filesystemStarted !== undefined) return;
    this.context.emit({
      type: 'progress',
      stage: this.context.stage,
      percent,
      deviceOperation: { code: message.operation, name, percent: percent || undefined },
    });
  }

  deviceLog(text: string): void {
    if (text) this.context.emit({ type: 'device-log', stage: this.context.stage, text });
  }

  private async norData(): Promise<PlistDict> {
    const { personalizer } = this.prepared;
    const components = Object.values(personalizer.identity.components);
    const firmware = components
      .filter(
        (c) =>
          (c.isFirmwarePayload || c.isSecondaryFirmwarePayload) &&
          c.name !== 'LLB' &&
          c.name !== 'RestoreSEP',
      )
      .sort((a, b) => (a.name === 'iBoot' ? -1 : b.name === 'iBoot' ? 1 : a.name.localeCompare(b.name)));
    const images: Uint8Array[] = [];
    for (const component of firmware) images.push(await personalizer.image(component.name));
    return restoredReplies.norData({
      llb: await personalizer.image('LLB'),
      firmware: images,
      restoreSep: personalizer.hasComponent('RestoreSEP')
        ? await personalizer.image('RestoreSEP')
        : undefined,
      sep: personalizer.hasComponent('SEP') ? await personalizer.image('SEP') : undefined,
    });
  }

  private async sendFilesystem(dataPort: number | undefined, signal: AbortSignal): Promise<void> {
    this.scope.switch('send-filesystem');
    const path = this.prepared.personalizer.identity.components.OS?.path;
    if (!path) throw new FirmwareInvalidError('the build identity has no OS image');
    const source = await this.prepared.firmware.memberSource(path);
    // Wait for an upload slot on this USB controller (admission control), showing our place.
    const admission = this.context.deps.admission;
    const release = admission
      ? await this.scope.paused(() =>
          admission.acquire(this.context.request.portPath, signal, (position) =>
            this.context.emit({
              type: 'warning',
              stage: 'send-filesystem',
              message: `waiting for an upload slot: #${position} in line`,
            }),
          ),
        )
      : () => undefined;
    try {
      await this.streamFilesystem(dataPort, source, signal);
    } finally {
      release();
    }
    this.context.lastDeviceMessage = 'filesystem sent';
  }

  private async streamFilesystem(
    dataPort: number | undefined,
    source: RandomAccessSource,
    signal: AbortSignal,
  ): Promise<void> {
    this.scope.extendBudgetForBytes(source.size);
    const channel = await AsrSender.connect(this.connect, { port: dataPort, signal });
    this.filesystemStarted = this.context.clock.now();
    const started = this.filesystemStarted;
    let lastEmit = 0;
    const sender = new AsrSender(channel, source, {
      signal,
      onProgress: (sent, total) => {
        const now = this.context.clock.now();
        if (now - lastEmit < 250 && sent < total) return; // throttled at the source
        lastEmit = now;
        const rate = sent / Math.max(1, now - started); // bytes per ms
        this.context.emit({
          type: 'progress',
          stage: 'send-filesystem',
          percent: total ? Math.floor((sent / total) * 100) : 100,
          bytesSent: sent,
          bytesTotal: total,
          etaSeconds: rate > 0 ? Math.round((total - sent) / rate / 1000) : undefined,
        });
      },
    });
    try {
      await sender.send();
    } catch (error) {
      // The device took nothing for minutes while attached: it hangs (stuck), not the cable.
      if (error instanceof AsrError && error.kind === 'timeout') {
        throw new StuckError(error.message, { stage: 'send-filesystem' }, { cause: error });
      }
      throw error;
    } finally {
      channel.destroy();
    }
  }
}
