// One attempt of the restore engine: an explicit step machine. Before every step it asks where
// the phone is (DeviceLocator) and runs the step that mode needs, so an attempt after an
// interruption continues from the phone's real state (already in recovery: no EnterRecovery;
// in recovery at all: no iBSS) while redoing whatever of the boot chain must be redone.
import {
  BenchError,
  FirmwareInvalidError,
  TransientUsbError,
  HostSetupError,
  PowerError,
  StuckError,
  type Stage,
} from '@bench/bench-domain';
import {
  checkIdentityMembers,
  IPHONE_HARDWARE_MODELS,
  selectBuildIdentity,
  type OpenFirmware,
} from '@bench/firmware';
import {
  DeviceServiceError,
  openIBootDevice,
  RestoredClient,
  UsbTransportError,
  type UsbDeviceInfo,
} from '@bench/usb-transport';
import { scaleBudgets, stageBudgets } from './budgets';
import {
  SILENT_LOGGER,
  SYSTEM_CLOCK,
  type RestoreCheckpoint,
  type RestoreDependencies,
  type RestoreRequest,
  type RestoreResult,
} from './engine-types';
import { classifyFailure } from './failures';
import { StageScope, type AttemptContext, type PreparedRestore } from './attempt-context';
import { DeviceLocator, DeviceNotFoundError, type DeviceLocation } from './locate/device-locator';
import { Personalizer } from './personalizer';
import type { RestoreEvent } from './restore-events';
import { modelForChip } from './device-models';
import { enterRecovery, readNormalModeState, type NormalModeState } from './steps/normal-mode';
import { bootRamdisk, sendIbec, sendIbss } from './steps/boot-chain';
import { runRestoreSession } from './steps/restore-session';
import { verifyInstalledBuild } from './steps/post-restore';

/** Enough steps for the longest path (normal → recovery → iBEC → ramdisk → restore → reboot) plus retries of re-enumeration. */
const MAX_STEPS = 12;

export class RestoreAttempt {
  private readonly context: AttemptContext;
  private readonly checkpoint: RestoreCheckpoint;
  private readonly stagesRun: Stage[] = [];
  private prepared?: PreparedRestore;

  constructor(
    private readonly deps: RestoreDependencies,
    private readonly request: RestoreRequest,
  ) {
    const clock = deps.clock ?? SYSTEM_CLOCK;
    const logger = deps.logger ?? SILENT_LOGGER;
    this.checkpoint = { ...request.checkpoint };
    this.context = {
      request,
      deps: { bus: deps.bus, usbmux: deps.usbmux, tss: deps.tss, admission: deps.admission },
      clock,
      logger,
      locator: new DeviceLocator(deps.bus, deps.usbmux, request.ecid, request.portPath, logger),
      emit: (event) => request.onEvent?.({ ...event, at: clock.now() } as RestoreEvent),
      budgets: scaleBudgets(stageBudgets(request.budgets), request.timeScale),
      stage: 'prepare',
    };
  }

  async run(): Promise<RestoreResult> {
    try {
      const result = await this.steps();
      this.context.emit({
        type: 'done',
        productVersion: result.productVersion,
        buildVersion: result.buildVersion,
      });
      return result;
    } catch (error) {
      const failure = await this.refine(classifyFailure(error, this.context, this.request.signal));
      this.context.emit({
        type: 'failed',
        failureClass: failure.failureClass,
        message: failure.message,
        evidence: failure.evidence,
      });
      throw failure;
    } finally {
      await this.prepared?.firmware.close().catch(() => undefined);
    }
  }

  private async steps(): Promise<RestoreResult> {
    const first = await this.findDevice(this.request.discoveryTimeoutMs ?? 10_000);
    const prepared = await this.stage('prepare', (signal) => this.prepare(first, signal));
    this.prepared = prepared;
    if (!this.checkpoint.restoreCompleted) await this.bootToRestore(prepared);
    return this.stage('reboot', async (signal) => {
      const installed = await verifyInstalledBuild(this.context, prepared, signal);
      return { ...installed, stages: this.stagesRun };
    });
  }

  /** Drives the phone from wherever it is to the end of the restore session. */
  private async bootToRestore(prepared: PreparedRestore): Promise<void> {
    let previous: string | undefined;
    let repeats = 0;
    for (let step = 0; step < MAX_STEPS; step++) {
      const where = await this.findDevice(this.context.budgets['send-ibss']);
      const key = `${where.mode}`;
      repeats = key === previous ? repeats + 1 : 0;
      previous = key;
      if (repeats >= 3) {
        throw new StuckError(
          `the phone keeps coming back in ${where.mode} mode; the boot chain does not advance`,
          {
            stage: this.context.stage,
          },
        );
      }
      this.context.emit({
        type: 'device',
        mode: where.mode,
        ecid: this.request.ecid,
        portPath: where.portPath,
        serialNumber: where.via === 'usb' ? where.serialNumber : undefined,
      });
      switch (where.mode) {
        case 'normal':
          await this.stage('enter-recovery', (signal) => enterRecovery(this.context, where, signal));
          break;
        case 'dfu':
        case 'port-dfu':
        case 'wtf':
          await this.stage('send-ibss', (signal) => sendIbss(this.context, prepared, where, signal));
          break;
        case 'recovery':
          if (prepared.ibecDeviceId === where.device.id) {
            await this.stage('boot-ramdisk', (signal) => bootRamdisk(this.context, prepared, where, signal));
          } else {
            await this.stage('send-ibec', (signal) => sendIbec(this.context, prepared, where, signal));
          }
          break;
        case 'restore': {
          const scope = this.openScope('restored-connect');
          try {
            await scope.run(runRestoreSession(this.context, prepared, where, scope));
          } finally {
            scope.close();
          }
          this.checkpoint.restoreCompleted = true;
          this.checkpoint.lastStage = 'finalize';
          this.request.onCheckpoint?.({ ...this.checkpoint });
          return;
        }
      }
    }
    throw new StuckError(`the restore did not reach restore mode within ${MAX_STEPS} steps`, {
      stage: this.context.stage,
    });
  }

  /** Runs one stage under its budget; exceeding it is `stuck`, the request's cancel is `cancelled`. */
  private async stage<T>(stage: Stage, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const scope = this.openScope(stage);
    try {
      return await scope.run(work(scope.signal));
    } finally {
      scope.close();
    }
  }

  private openScope(stage: Stage): StageScope {
    return new StageScope(
      this.context,
      this.request.signal,
      (next) => {
        this.stagesRun.push(next);
        this.checkpoint.lastStage = next;
      },
      stage,
      (expired, budgetMs) => this.diagnoseBudget(expired, budgetMs),
    );
  }

  /**
   * A transfer that timed out while the phone stays attached is a phone that stopped answering:
   * `stuck` (kick it out, retry from recovery), not a cable problem.
   */
  private async refine(failure: BenchError): Promise<BenchError> {
    if (failure.failureClass !== 'transient-usb' || !isTimeout(failure)) return failure;
    const here = await this.context.locator.locate().catch(() => undefined);
    if (!here) return failure;
    return new StuckError(
      `${this.context.stage}: the phone stopped answering but is still attached in ${here.mode} mode (${failure.message})`,
      { ...failure.evidence, stage: this.context.stage },
      { cause: failure },
    );
  }

  /** At the end of a budget: is the phone still here (it hangs: stuck) or gone (transient-usb)? */
  private async diagnoseBudget(stage: Stage, budgetMs: number): Promise<BenchError> {
    const seconds = Math.round(budgetMs / 1000);
    const here = await this.context.locator.locate().catch(() => undefined);
    if (!here) {
      return new TransientUsbError(
        `the phone left during ${stage} and did not come back within ${seconds} s`,
        { stage },
      );
    }
    return new StuckError(
      `${stage} did not finish within its ${seconds} s budget (the phone is in ${here.mode} mode)`,
      {
        stage,
      },
    );
  }

  private async findDevice(timeoutMs: number): Promise<DeviceLocation> {
    const location = await this.context.locator.waitFor(() => true, timeoutMs, this.request.signal);
    if (location) return location;
    if (this.context.locator.usbmuxError && this.context.locator.usbmuxError.failureClass === 'host-setup') {
      throw new HostSetupError(
        `the phone ${this.request.ecid} is not on the USB bus, and usbmuxd does not answer: ${this.context.locator.usbmuxError.message}`,
        { stage: this.context.stage },
      );
    }
    const where = this.request.portPath ? ` on port ${this.request.portPath}` : '';
    throw new DeviceNotFoundError(
      `the phone ${this.request.ecid} is not attached${where} (waited ${Math.round(timeoutMs / 1000)} s)`,
      {
        stage: this.context.stage,
      },
    );
  }

  private async prepare(where: DeviceLocation, signal: AbortSignal): Promise<PreparedRestore> {
    const { context, request } = this;
    let productType: string | undefined;
    let hardwareModel: string | undefined;
    let chip: { cpid?: number; bdid?: number } = {};
    let nonces: {
      apNonce?: Uint8Array;
      sepNonce?: Uint8Array;
      productionMode?: boolean;
      securityMode?: boolean;
    } = {};
    let normal: NormalModeState | undefined;
    if (where.via === 'usb') {
      const client = await openIBootDevice(context.deps.bus, {
        ecid: request.ecid,
        portPath: where.portPath,
        retry: { attempts: 3, intervalMs: 1_000 },
        signal,
      });
      try {
        const identity = client.identity;
        chip = { cpid: identity.cpid, bdid: identity.bdid };
        nonces = {
          apNonce: identity.apNonce,
          sepNonce: identity.sepNonce,
          productionMode: identity.cpfm === undefined ? true : (identity.cpfm & 2) !== 0,
          securityMode: identity.cpfm === undefined ? true : (identity.cpfm & 1) !== 0,
        };
        this.warnOnSlowLink(client.device);
      } finally {
        await client.close().catch(() => undefined);
      }
      const model = modelForChip(chip.cpid, chip.bdid);
      productType = model?.productType;
      hardwareModel = model?.hardwareModel;
    } else if (where.mode === 'normal') {
      normal = await readNormalModeState(context, where, signal);
      productType = normal.productType;
      hardwareModel = normal.hardwareModel?.toLowerCase();
      nonces = {
        apNonce: normal.apNonce,
        sepNonce: normal.sepNonce,
        productionMode: true,
        securityMode: true,
      };
      if (where.device.connectionSpeed !== undefined && where.device.connectionSpeed < 480_000_000) {
        context.emit({
          type: 'warning',
          stage: 'prepare',
          message: `the phone links at ${where.device.connectionSpeed / 1e6} Mbit/s: check the cable and port`,
        });
      }
      this.checkBattery(normal);
    } else {
      const restore = await readRestoreModeIdentity(context, where, signal);
      hardwareModel = restore.hardwareModel;
      chip = { cpid: restore.chipId, bdid: restore.boardId };
      productType = modelForChip(chip.cpid, chip.bdid)?.productType ?? productForHardwareModel(hardwareModel);
    }

    const firmware = await this.openFirmware(productType, signal);
    try {
      const manifest = firmware.manifest;
      context.emit({
        type: 'firmware',
        version: manifest.productVersion,
        build: manifest.productBuildVersion,
      });
      if (!productType) productType = productFromManifest(firmware, chip.cpid, chip.bdid);
      if (!hardwareModel && productType) hardwareModel = IPHONE_HARDWARE_MODELS[productType];
      if (!productType || !hardwareModel) {
        throw new FirmwareInvalidError(
          `cannot tell which model the phone is (CPID ${hex(chip.cpid)}, BDID ${hex(chip.bdid)}); this IPSW supports ${manifest.supportedProductTypes.join(', ')}`,
          { stage: 'prepare' },
        );
      }
      const identity = selectBuildIdentity(manifest, {
        productType,
        hardwareModel,
        chipId: chip.cpid,
        boardId: chip.bdid,
        behavior: request.behavior,
      });
      checkIdentityMembers(identity, (path) => firmware.archive.has(path));
      // The OS image must be readable at any offset (ASR asks for random ranges).
      const os = identity.components.OS?.path;
      if (!os)
        throw new FirmwareInvalidError(`the build identity for ${hardwareModel} has no OS image`, {
          stage: 'prepare',
        });
      await firmware.memberSource(os);
      // Every other component is small: check each against its zip CRC before touching the phone.
      // (The OS image was checked when it was downloaded; the phone verifies what it receives.)
      const paths = new Set(
        Object.values(identity.components)
          .map((component) => component.path)
          .filter((path): path is string => path !== undefined && path !== os),
      );
      for (const path of paths) {
        signal.throwIfAborted();
        await firmware.archive.verifyMember(path);
      }
      const personalizer = new Personalizer(firmware, identity, request.ecid, context.deps.tss);
      // Ask the signing server before touching the phone: an unsigned build stops here.
      await personalizer.ticketFor(nonces, signal);
      context.logger.info(
        `restoring ${productType} (${hardwareModel}) to ${manifest.productVersion} (${manifest.productBuildVersion}), ${identity.info.variant ?? request.behavior}`,
      );
      return {
        firmware,
        personalizer,
        productType,
        targetVersion: manifest.productVersion,
        targetBuild: manifest.productBuildVersion,
      };
    } catch (error) {
      await firmware.close().catch(() => undefined);
      throw error;
    }
  }

  private async openFirmware(productType: string | undefined, signal: AbortSignal): Promise<OpenFirmware> {
    const choice = this.request.firmware;
    if ('ipsw' in choice) return choice.ipsw;
    if (!productType) {
      throw new FirmwareInvalidError('the phone did not say what model it is; pass an IPSW explicitly', {
        stage: 'prepare',
      });
    }
    const store = this.deps.firmware;
    const resolved = await store.resolve(productType, 'build' in choice ? choice.build : 'latest-signed', {
      signal,
    });
    return store.open(resolved);
  }

  private checkBattery(state: NormalModeState): void {
    const min = this.request.minBatteryPercent ?? 20;
    const battery = state.battery;
    if (!battery || battery.currentCapacity === undefined) {
      this.context.emit({
        type: 'warning',
        stage: 'prepare',
        message: 'battery level unknown (phone not paired with this host)',
      });
      return;
    }
    this.context.emit({
      type: 'battery',
      percent: battery.currentCapacity,
      charging: battery.isCharging === true,
    });
    if (battery.currentCapacity <= 5 && !battery.isCharging) {
      this.context.batteryFailing = `a battery reading of ${battery.currentCapacity}%`;
    }
    if (battery.currentCapacity < min && !battery.isCharging) {
      throw new PowerError(
        `battery at ${battery.currentCapacity}% and not charging (needs ${min}% or a charging port)`,
        {
          stage: 'prepare',
          detail: JSON.stringify(battery),
        },
      );
    }
  }

  private warnOnSlowLink(device: UsbDeviceInfo): void {
    if (device.speed === 'full' || device.speed === 'low') {
      this.context.emit({
        type: 'warning',
        stage: 'prepare',
        message: `${device.portPath} links at ${device.speed} speed (12 Mbit/s): a bad cable or port; the restore will be slow`,
      });
    }
  }
}

export async function readRestoreModeIdentity(
  context: AttemptContext,
  where: Extract<DeviceLocation, { via: 'usbmux' }>,
  signal: AbortSignal,
): Promise<{ hardwareModel?: string; chipId?: number; boardId?: number }> {
  signal.throwIfAborted();
  const restored = await RestoredClient.open(context.deps.usbmux, where.device.deviceId, {
    receiveTimeoutMs: 10_000,
  });
  try {
    const type = await restored.queryType();
    const info = await restored.hardwareInfo();
    await restored.goodbye().catch(() => undefined);
    return { hardwareModel: type.hardwareModel?.toLowerCase(), chipId: info.chipId, boardId: info.boardId };
  } finally {
    restored.close();
  }
}

function productForHardwareModel(hardwareModel: string | undefined): string | undefined {
  if (!hardwareModel) return undefined;
  return Object.entries(IPHONE_HARDWARE_MODELS).find(
    ([, model]) => model === hardwareModel.toLowerCase(),
  )?.[0];
}

/** The product type of the manifest identity whose chip and board match the phone. */
function productFromManifest(firmware: OpenFirmware, cpid?: number, bdid?: number): string | undefined {
  if (cpid === undefined || bdid === undefined) return undefined;
  const identity = firmware.manifest.identities.find((i) => i.apChipId === cpid && i.apBoardId === bdid);
  if (!identity) return undefined;
  return productForHardwareModel(identity.info.deviceClass) ?? identity.productType;
}

function hex(value: number | undefined): string {
  return value === undefined ? '?' : `0x${value.toString(16)}`;
}

function isTimeout(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if (
      (current instanceof UsbTransportError || current instanceof DeviceServiceError) &&
      current.kind === 'timeout'
    ) {
      return true;
    }
  }
  return false;
}
