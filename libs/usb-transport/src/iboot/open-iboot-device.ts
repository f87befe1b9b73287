// Finds the DFU/recovery device with a given ECID and opens an IBootClient on it, retrying as
// idevicerestore does (DFU: 10 attempts 1 s apart; recovery: 20 attempts 4 s apart). Between
// attempts it waits for the interval *or* the next iBoot attach, whichever comes first.
import { parseEcid, type Ecid } from '@bench/bench-domain';
import { APPLE_USB_VENDOR_ID, ibootModeOfProductId, type IBootMode } from '@bench/protocols';
import type { UsbBus, UsbDeviceHandle, UsbDeviceInfo } from '../bus/usb-bus';
import { UsbTransportError } from '../bus/usb-errors';
import { waitForDevice } from './device-wait';
import { IBootClient, type IBootClientOptions } from './iboot-client';
import { throwIfAborted } from './abort';
import { DeviceWaitTimeoutError, EcidMismatchError, IBootDeviceNotFoundError } from './iboot-errors';

export interface OpenRetry {
  attempts: number;
  intervalMs: number;
}

export const DFU_OPEN_RETRY: OpenRetry = { attempts: 10, intervalMs: 1_000 };
export const RECOVERY_OPEN_RETRY: OpenRetry = { attempts: 20, intervalMs: 4_000 };

export interface OpenIBootDeviceOptions extends IBootClientOptions {
  ecid: Ecid | bigint | string;
  /** Modes to accept; all four by default. */
  modes?: readonly IBootMode[];
  /** Only a device on this port (the slot the engine runs for). */
  portPath?: string;
  /** Overall limit across attempts. */
  timeoutMs?: number;
  /** Attempts and spacing; idevicerestore's DFU or recovery values by default (from `modes`). */
  retry?: OpenRetry;
  signal?: AbortSignal;
}

const ALL_MODES: readonly IBootMode[] = ['dfu', 'recovery', 'wtf', 'port-dfu'];

export function isIBootCandidate(
  device: UsbDeviceInfo,
  modes: readonly IBootMode[],
  portPath?: string,
): boolean {
  if (device.vendorId !== APPLE_USB_VENDOR_ID) return false;
  const mode = ibootModeOfProductId(device.productId);
  return (
    mode !== undefined && modes.includes(mode) && (portPath === undefined || device.portPath === portPath)
  );
}

export async function openIBootDevice(bus: UsbBus, options: OpenIBootDeviceOptions): Promise<IBootClient> {
  const ecid = parseEcid(options.ecid);
  const modes = options.modes ?? ALL_MODES;
  const retry = options.retry ?? (modes.includes('recovery') ? RECOVERY_OPEN_RETRY : DFU_OPEN_RETRY);
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    throwIfAborted(options.signal);
    const candidates = (await bus.list()).filter((d) => isIBootCandidate(d, modes, options.portPath));
    for (const candidate of candidates) {
      const outcome = await tryOpen(bus, candidate, ecid, options);
      if (outcome instanceof IBootClient) return outcome;
      if (outcome !== undefined) lastError = outcome;
    }
    const remaining = deadline - Date.now();
    if (attempt === retry.attempts || remaining <= 0) break;
    await waitForDevice(
      bus,
      (d) => isIBootCandidate(d, modes, options.portPath),
      Math.min(retry.intervalMs, remaining),
      options.signal,
    ).catch((error: unknown) => {
      if (!(error instanceof DeviceWaitTimeoutError)) throw error;
    });
  }
  const where = options.portPath ? ` on ${options.portPath}` : '';
  throw new IBootDeviceNotFoundError(
    `no ${modes.join('/')} device with ECID ${ecid}${where} could be opened`,
    { detail: lastError instanceof Error ? lastError.message : undefined },
    { cause: lastError },
  );
}

/** The client, undefined for "someone else's device", or the error that made the attempt fail. */
async function tryOpen(
  bus: UsbBus,
  candidate: UsbDeviceInfo,
  ecid: Ecid,
  options: OpenIBootDeviceOptions,
): Promise<IBootClient | Error | undefined> {
  let handle: UsbDeviceHandle | undefined;
  try {
    handle = await bus.open(candidate);
    return await IBootClient.open(handle, { ...options, ecid });
  } catch (error) {
    await handle?.close().catch(() => undefined);
    if (error instanceof EcidMismatchError) return undefined;
    // Permissions will not fix themselves by retrying.
    if (error instanceof UsbTransportError && error.kind === 'access') throw error;
    return error instanceof Error ? error : new Error(String(error));
  }
}
