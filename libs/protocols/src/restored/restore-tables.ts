// Meaning tables for restored's ProgressMsg operations and StatusMsg codes (restore-protocol.md
// §3.7 and §3.8; the same tables idevicerestore and pymobiledevice3 carry).

export const PROGRESS_OPERATION_NAMES: Readonly<Record<number, string>> = {
  11: 'Creating partition map',
  12: 'Creating filesystem',
  13: 'Restoring image',
  14: 'Verifying restore',
  15: 'Checking filesystems',
  16: 'Mounting filesystems',
  17: 'Fixing up /var',
  18: 'Flashing firmware',
  19: 'Updating baseband',
  20: 'Setting boot stage',
  21: 'Rebooting device',
  22: 'Shutdown device',
  23: 'Turning on accessory power',
  24: 'Clearing persistent boot-args',
  25: 'Modifying persistent boot-args',
  26: 'Installing root',
  27: 'Installing kernelcache',
  28: 'Waiting for NAND',
  29: 'Unmounting filesystems',
  30: 'Setting date and time',
  31: 'Executing iBEC to bootstrap update',
  32: 'Finalizing NAND epoch update',
  33: 'Checking for inappropriate bootable partitions',
  34: 'Creating factory restore marker',
  35: 'Loading firmware data to flash',
  36: 'Requesting FUD data',
  37: 'Removing activation record',
  38: 'Checking battery voltage',
  39: 'Waiting for battery to charge',
  40: 'Closing modem tickets',
  41: 'Migrating data',
  42: 'Wiping storage device',
  43: 'Sending Apple logo',
  44: 'Checking for uncollected logs',
  46: 'Clearing NVRAM',
  47: 'Updating gas gauge software',
  48: 'Preparing baseband update',
  49: 'Booting the baseband',
  50: 'Creating system key bag',
  51: 'Updating IR MCU firmware',
  52: 'Resizing system partition',
  53: 'Collecting updater output',
  54: 'Pairing Stockholm',
  55: 'Updating Stockholm',
  56: 'Updating SWDHID',
  57: 'Certifying SEP',
  58: 'Updating NAND firmware',
  59: 'Updating SE firmware',
  60: 'Updating Savage',
  61: 'Installing DeviceTree',
  62: 'Certifying Savage',
  63: 'Submitting Provinfo',
  64: 'Certifying Yonkers',
  65: 'Updating Rose',
  66: 'Updating Veridian',
  67: 'Creating Protected Volume',
  68: 'Resizing main filesystem partition',
  69: 'Creating Recovery OS volume',
  70: 'Installing Recovery OS files',
  71: 'Installing Recovery OS image',
  74: 'Requesting EAN data',
  77: 'Sealing system volume',
  81: 'Updating AppleTCON',
};

/** Well-known operation codes (after normalisation) the engine keys progress on. */
export const ProgressOperation = {
  CreatingPartitionMap: 11,
  RestoringImage: 13,
  VerifyingRestore: 14,
  FlashingFirmware: 18,
  UpdatingBaseband: 19,
  UnmountingFilesystems: 29,
  RequestingFudData: 36,
  UpdatingIrMcuFirmware: 51,
} as const;

/** Devices speaking RestoreProtocolVersion < 14 send codes above 35 one lower. */
export function normalizeProgressOperation(operation: number, protocolVersion: number): number {
  return protocolVersion < 14 && operation > 35 ? operation + 1 : operation;
}

export function progressOperationName(operation: number, protocolVersion: number): string {
  const code = normalizeProgressOperation(operation, protocolVersion);
  return PROGRESS_OPERATION_NAMES[code] ?? `Unknown operation (${code})`;
}

/** StatusMsg `Status` after mapping 0xFFFFFFFFFFFFFFFF to -1. */
export const RestoreStatus = {
  Success: 0,
  VerificationError: -1,
  DiskFailure: 6,
  Fail: 14,
  MountFailed: 27,
  SepFirmwareFailed50: 50,
  SepFirmwareFailed: 51,
  FdrRecoveryFailed: 53,
  BasebandUpdateFailed: 1015,
} as const;

export const RESTORE_STATUS_MEANINGS: Readonly<Record<number, string>> = {
  0: 'Restore Finished',
  [-1]: 'Verification Error',
  6: 'Disk Failure',
  14: 'Fail',
  27: 'Failed to mount filesystems',
  50: 'Failed to load SEP Firmware',
  51: 'Failed to load SEP Firmware',
  53: 'Failed to recover FDR data',
  1015: 'X-Gold Baseband Update Failed. Defective Unit?',
};

/** Status codes the design's failure table classes as a hardware fault (design §6). */
export const DEVICE_HARDWARE_STATUS_CODES: readonly number[] = [6, 27, 50, 51, 53, 1015];

export function restoreStatusMeaning(status: number): string {
  return RESTORE_STATUS_MEANINGS[status] ?? `Unhandled status message (${status})`;
}
