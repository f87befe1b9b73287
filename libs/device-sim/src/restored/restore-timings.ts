// How long the device side of a restore takes, in simulated milliseconds (SimClock divides by its
// speed factor). Defaults follow what real erase restores of A10/A11 iPhones show in idevicerestore
// logs: restore mode takes roughly 6–10 minutes plus the filesystem stream, whose duration comes
// from the bench's LinkThrottle and the image size rather than from this table.

export interface RestoreTimings {
  /** Op 28, right after StartRestore. */
  waitForNandMs: number;
  /** Op 11. */
  partitionMapMs: number;
  /** Op 12. */
  createFilesystemMs: number;
  /** Op 14, reported in percent steps. */
  verifyMs: number;
  /** Op 15. */
  checkFilesystemsMs: number;
  /** Op 16. */
  mountFilesystemsMs: number;
  /** Op 27. */
  installKernelcacheMs: number;
  /** Op 61. */
  installDeviceTreeMs: number;
  /** Op 18, reported in percent steps. */
  flashFirmwareMs: number;
  /** Op 17. */
  fixupVarMs: number;
  /** Op 50. */
  systemKeyBagMs: number;
  /** Op 29. */
  unmountMs: number;
  /** Pause between the final acknowledgement and the reboot (AutoBootDelay 0 plus teardown). */
  rebootPauseMs: number;
  /** From reboot until iOS shows up behind usbmux again. */
  bootToIosMs: number;
  /** After a failure StatusMsg, until the device gives up and reboots into recovery. */
  failureRebootMs: number;
  /** After the host vanished mid-restore, until the device shows up in recovery. */
  interruptedRebootMs: number;
}

/**
 * How long the device waits for the HOST, in real milliseconds: the host is a real process (our
 * engine, idevicerestore) whose pace does not follow the simulator's speed factor, so these
 * waits are not scaled.
 */
export interface RestoreHostWaits {
  /** For the answer to a DataRequestMsg. */
  dataReplyMs: number;
  /** For the host to connect to the ASR port after SystemImageData was asked for. */
  asrConnectMs: number;
  /** For each ASR step (packet info, OOB bytes, payload chunks). */
  asrStepMs: number;
  /** For ReceivedFinalStatusMsg after StatusMsg 0, before rebooting anyway. */
  finalStatusAckMs: number;
}

export const DEFAULT_HOST_WAITS: RestoreHostWaits = {
  dataReplyMs: 300_000,
  asrConnectMs: 120_000,
  asrStepMs: 60_000,
  finalStatusAckMs: 30_000,
};

export const REALISTIC_RESTORE_TIMINGS: RestoreTimings = {
  waitForNandMs: 4_000,
  partitionMapMs: 12_000,
  createFilesystemMs: 20_000,
  verifyMs: 180_000,
  checkFilesystemsMs: 15_000,
  mountFilesystemsMs: 5_000,
  installKernelcacheMs: 10_000,
  installDeviceTreeMs: 3_000,
  flashFirmwareMs: 60_000,
  fixupVarMs: 8_000,
  systemKeyBagMs: 5_000,
  unmountMs: 6_000,
  rebootPauseMs: 2_000,
  bootToIosMs: 45_000,
  failureRebootMs: 15_000,
  interruptedRebootMs: 10_000,
};
