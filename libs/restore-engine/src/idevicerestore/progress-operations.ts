// The device's ProgressMsg operations as idevicerestore prints them: `<name> (<code>)`.
// Names and codes are those of idevicerestore's restore_progress_string() (1.0.0 and current
// upstream, restore-protocol.md §3.7). The printed code is the device's raw value; for
// RestoreProtocolVersion < 14 codes above 35 arrive one lower while the name is already
// adjusted, so a line is identified by its name, not by its number.
import type { Stage } from '@bench/bench-domain';

export interface ProgressOperation {
  /** The operation's code in the current numbering. */
  code: number;
  name: string;
  /** The engine stage this operation belongs to, where it belongs to exactly one. */
  stage?: Stage;
}

const OPERATIONS: readonly ProgressOperation[] = [
  { code: 11, name: 'Creating partition map', stage: 'send-filesystem' },
  { code: 12, name: 'Creating filesystem', stage: 'send-filesystem' },
  { code: 13, name: 'Restoring image', stage: 'send-filesystem' },
  { code: 14, name: 'Verifying restore', stage: 'verify' },
  // 15/16/29 appear both before partitioning and after verification: no stage of their own.
  { code: 15, name: 'Checking filesystems' },
  { code: 16, name: 'Mounting filesystems' },
  { code: 17, name: 'Fixing up /var' },
  { code: 18, name: 'Flashing firmware', stage: 'flash-firmware' },
  { code: 19, name: 'Updating baseband', stage: 'baseband' },
  { code: 20, name: 'Setting boot stage' },
  { code: 21, name: 'Rebooting device' },
  { code: 22, name: 'Shutdown device' },
  { code: 23, name: 'Turning on accessory power' },
  { code: 24, name: 'Clearing persistent boot-args' },
  { code: 25, name: 'Modifying persistent boot-args' },
  { code: 26, name: 'Installing root' },
  { code: 27, name: 'Installing kernelcache' },
  { code: 28, name: 'Waiting for NAND' },
  { code: 29, name: 'Unmounting filesystems' },
  { code: 30, name: 'Setting date and time on device' },
  { code: 31, name: 'Executing iBEC to bootstrap update' },
  { code: 32, name: 'Finalizing NAND epoch update' },
  { code: 33, name: 'Checking for inappropriate bootable partitions' },
  { code: 34, name: 'Creating factory restore marker' },
  { code: 35, name: 'Loading firmware data to flash', stage: 'flash-firmware' },
  { code: 36, name: 'Requesting FUD data', stage: 'flash-firmware' },
  { code: 37, name: 'Removing activation record' },
  { code: 38, name: 'Checking battery voltage' },
  { code: 39, name: 'Waiting for battery to charge' },
  { code: 40, name: 'Closing modem tickets' },
  { code: 41, name: 'Migrating data' },
  { code: 42, name: 'Wiping storage device' },
  { code: 43, name: 'Sending Apple logo to device' },
  { code: 44, name: 'Checking for uncollected logs' },
  { code: 46, name: 'Clearing NVRAM' },
  { code: 47, name: 'Updating gas gauge software' },
  { code: 48, name: 'Preparing for baseband update', stage: 'baseband' },
  { code: 49, name: 'Booting the baseband', stage: 'baseband' },
  { code: 50, name: 'Creating system key bag' },
  // idevicerestore reports the IR MCU update on its baseband progress step.
  { code: 51, name: 'Updating IR MCU firmware', stage: 'baseband' },
  { code: 52, name: 'Resizing system partition' },
  { code: 53, name: 'Collecting updater output' },
  { code: 54, name: 'Pairing Stockholm' },
  { code: 55, name: 'Updating Stockholm', stage: 'flash-firmware' },
  { code: 56, name: 'Updating SWDHID', stage: 'flash-firmware' },
  { code: 57, name: 'Certifying SEP' },
  { code: 58, name: 'Updating NAND Firmware', stage: 'flash-firmware' },
  { code: 59, name: 'Updating SE Firmware', stage: 'flash-firmware' },
  { code: 60, name: 'Updating Savage', stage: 'flash-firmware' },
  { code: 61, name: 'Installing DeviceTree' },
  { code: 62, name: 'Certifying Savage' },
  { code: 63, name: 'Submitting Provinfo' },
  { code: 64, name: 'Certifying Yonkers' },
  { code: 65, name: 'Updating Rose', stage: 'flash-firmware' },
  { code: 66, name: 'Updating Veridian', stage: 'flash-firmware' },
  { code: 67, name: 'Creating Protected Volume' },
  { code: 68, name: 'Resizing Main Filesystem Partition' },
  { code: 69, name: 'Creating Recovery OS Volume' },
  { code: 70, name: 'Installing Recovery OS Files' },
  { code: 71, name: 'Installing Recovery OS Image' },
  { code: 74, name: 'Requesting EAN Data' },
  { code: 77, name: 'Sealing System Volume' },
  { code: 81, name: 'Updating AppleTCON', stage: 'flash-firmware' },
];

/** What idevicerestore prints for a code it has no name for. */
export const UNKNOWN_OPERATION_NAME = 'Unknown operation';

const BY_NAME = new Map(OPERATIONS.map((op) => [op.name.toLowerCase(), op]));

const OPERATION_LINE = /^(.+?) \((\d{1,3})\)$/;

export interface ProgressOperationLine {
  /** The code as printed (the device's raw value). */
  printedCode: number;
  name: string;
  operation?: ProgressOperation;
}

/** Recognises `<operation name> (<code>)`; undefined for anything else. */
export function parseProgressOperationLine(text: string): ProgressOperationLine | undefined {
  const match = OPERATION_LINE.exec(text);
  if (!match) return undefined;
  const [, name, code] = match;
  if (name === UNKNOWN_OPERATION_NAME) return { printedCode: Number(code), name };
  const operation = BY_NAME.get(name.toLowerCase());
  return operation ? { printedCode: Number(code), name, operation } : undefined;
}
