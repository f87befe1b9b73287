// What the restore engine needs from the world, as interfaces only (design §5): the USB bus, a
// usbmuxd client, a TSS client, a firmware store, a clock and a logger. The agent, the CLI and
// the tests hand in real or simulated implementations.
import type { Ecid, RestoreBehavior, Stage } from '@bench/bench-domain';
import type { FirmwareStore, OpenFirmware, TssClient } from '@bench/firmware';
import type { UsbBus, UsbmuxClient } from '@bench/usb-transport';
import type { RestoreEventListener } from './restore-events';

export interface EngineClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface EngineLogger {
  debug(message: string, fields?: object): void;
  info(message: string, fields?: object): void;
  warn(message: string, fields?: object): void;
  error(message: string, fields?: object): void;
}

export const SYSTEM_CLOCK: EngineClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', abort);
        resolve();
      }, ms);
      const abort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', abort, { once: true });
    }),
};

export const SILENT_LOGGER: EngineLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * Admission control for filesystem uploads: the agent lets at most K phones per USB controller
 * stream at once. `acquire` resolves with a release function; `onWait` tells the phone's place.
 */
export interface UploadAdmission {
  acquire(
    portPath: string | undefined,
    signal: AbortSignal,
    onWait: (position: number) => void,
  ): Promise<() => void>;
}

export interface RestoreDependencies {
  bus: UsbBus;
  usbmux: UsbmuxClient;
  tss: TssClient;
  firmware: FirmwareStore;
  clock?: EngineClock;
  logger?: EngineLogger;
  admission?: UploadAdmission;
}

/** Which firmware: an IPSW on disk, a build number, or the newest build the store has signed. */
export type FirmwareChoice = { ipsw: OpenFirmware } | { build: string } | { latest: true };

/** What the engine remembers across attempts (the agent stores it in the job's data). */
export interface RestoreCheckpoint {
  /** restored said Status 0: the phone only has to reboot and show the target build. */
  restoreCompleted?: boolean;
  lastStage?: Stage;
}

export interface RestoreRequest {
  ecid: Ecid;
  /** The slot's port: only a device on this port is used (safety: never restore the wrong phone). */
  portPath?: string;
  behavior: RestoreBehavior;
  firmware: FirmwareChoice;
  /** Stage budgets in ms, overriding the defaults (budgets.ts). */
  budgets?: Partial<Record<Stage, number>>;
  /**
   * How many times faster the device's clock runs than ours: 1 on real hardware, a simulator's
   * speed factor otherwise. Budgets shrink by it (budgets.ts, scaleBudgets).
   */
  timeScale?: number;
  /** How long to wait for the device to show up before the first step. */
  discoveryTimeoutMs?: number;
  /** Below this battery level (normal mode, not charging) the restore does not start. */
  minBatteryPercent?: number;
  checkpoint?: RestoreCheckpoint;
  signal?: AbortSignal;
  onEvent?: RestoreEventListener;
  onCheckpoint?: (checkpoint: RestoreCheckpoint) => void;
}

export interface RestoreResult {
  productVersion: string;
  buildVersion: string;
  /** Stages run in this attempt, in order. */
  stages: Stage[];
}
