// restored (device port 62078 in restore mode): what the host asks, and the decoding of the
// answers to those questions (restore-protocol.md §3.6; idevicerestore-1.0.0 notes §2).
import { randomUUID } from 'node:crypto';
import { ProtocolError } from '../errors';
import {
  optionalBigInteger,
  optionalBoolean,
  optionalInteger,
  optionalString,
  requireString,
} from '../plist/fields';
import { isPlistDict, type PlistDict, type PlistValue } from '../plist/plist';

export const RESTORED_PORT = 62078;
export const RESTORED_SERVICE_TYPE = 'com.apple.mobile.restored';
export const DEFAULT_RESTORED_LABEL = 'bench';

export const restoredRequests = {
  queryType: (label = DEFAULT_RESTORED_LABEL): PlistDict => ({ Label: label, Request: 'QueryType' }),
  queryValue: (key: string, label = DEFAULT_RESTORED_LABEL): PlistDict => ({
    Label: label,
    Request: 'QueryValue',
    QueryKey: key,
  }),
  /** `protocolVersion` is the device's RestoreProtocolVersion, echoed back. */
  startRestore: (
    protocolVersion: number,
    restoreOptions: PlistDict,
    label = DEFAULT_RESTORED_LABEL,
  ): PlistDict => ({
    Label: label,
    Request: 'StartRestore',
    RestoreProtocolVersion: protocolVersion,
    RestoreOptions: restoreOptions,
  }),
  goodbye: (label = DEFAULT_RESTORED_LABEL): PlistDict => ({ Label: label, Request: 'Goodbye' }),
  /** Only used to kick a device out of restore mode; a restore ends with the device rebooting itself. */
  reboot: (label = DEFAULT_RESTORED_LABEL): PlistDict => ({ Label: label, Request: 'Reboot' }),
};

export interface RestoredQueryType {
  type: string;
  /** Required and an integer: idevicerestore ignores a device that sends it missing or as a string. */
  restoreProtocolVersion: number;
  serialNumber?: string;
  hardwareModel?: string;
  raw: PlistDict;
}

export function decodeRestoredQueryType(reply: PlistDict): RestoredQueryType {
  const type = requireString(reply, 'Type', 'QueryType reply');
  const version = optionalInteger(reply, 'RestoreProtocolVersion');
  if (version === undefined) {
    throw new ProtocolError(
      `QueryType reply (${type}) lacks an integer RestoreProtocolVersion`,
      'RestoreProtocolVersion',
    );
  }
  return {
    type,
    restoreProtocolVersion: version,
    serialNumber: optionalString(reply, 'SerialNumber'),
    hardwareModel: optionalString(reply, 'HardwareModel'),
    raw: reply,
  };
}

/**
 * restored answers `QueryValue {QueryKey: K}` with the value under the key K itself (not
 * under `Value`); a missing value comes back without that key.
 */
export function decodeQueryValueReply(reply: PlistDict, key: string): PlistValue | undefined {
  const error = reply.Error;
  if (typeof error === 'string') throw new ProtocolError(`QueryValue ${key} failed: ${error}`, key);
  return reply[key];
}

export interface HardwareInfo {
  /** The ECID; kept as bigint because it is a 64-bit identity. */
  uniqueChipId: bigint;
  boardId?: number;
  chipId?: number;
  productionMode?: boolean;
  supportsImage4?: boolean;
  raw: PlistDict;
}

export function decodeHardwareInfo(value: PlistValue | undefined): HardwareInfo {
  if (!isPlistDict(value)) throw new ProtocolError('HardwareInfo is not a dictionary', 'HardwareInfo');
  const ecid = optionalBigInteger(value, 'UniqueChipID');
  if (ecid === undefined) throw new ProtocolError('HardwareInfo lacks UniqueChipID', 'UniqueChipID');
  return {
    uniqueChipId: ecid,
    boardId: optionalInteger(value, 'BoardID'),
    chipId: optionalInteger(value, 'ChipID'),
    productionMode: optionalBoolean(value, 'ProductionMode'),
    supportsImage4: optionalBoolean(value, 'SupportsImage4'),
    raw: value,
  };
}

export interface SavedDebugInfo {
  previousExitStatus?: string;
  usbLog?: string;
  panicLog?: string;
}

export function decodeSavedDebugInfo(value: PlistValue | undefined): SavedDebugInfo {
  if (value === undefined) return {};
  if (!isPlistDict(value)) throw new ProtocolError('SavedDebugInfo is not a dictionary', 'SavedDebugInfo');
  return {
    previousExitStatus: optionalString(value, 'PreviousExitStatus'),
    usbLog: optionalString(value, 'USBLog'),
    panicLog: optionalString(value, 'PanicLog'),
  };
}

/** idevicerestore's default when the build identity has no `Info.SystemPartitionPadding`. */
export const DEFAULT_SYSTEM_PARTITION_PADDING: PlistDict = {
  '8': 80,
  '16': 160,
  '32': 320,
  '64': 640,
  '128': 1280,
};

export interface RestoreOptionsInput {
  /** Random GUID when absent (upper-case, like idevicerestore). */
  uuid?: string;
  /** From the build identity's `Info.SystemPartitionPadding`. */
  systemPartitionPadding?: PlistDict;
  /** From `Manifest.SEP.Info.RequiredCapacity`. */
  tz0RequiredCapacity?: number;
  restoreBootArgs?: string;
  updateBaseband?: boolean;
  /** Extra keys (e.g. SupportedDataTypes, SupportedMessageTypes for newer devices); they win. */
  extra?: PlistDict;
}

/** RestoreOptions as Debian's idevicerestore 1.0.0 sends them for an erase restore (notes §2). */
export function buildRestoreOptions(input: RestoreOptionsInput = {}): PlistDict {
  const options: PlistDict = {
    AutoBootDelay: 0,
    BootImageType: 'UserOrInternal',
    CreateFilesystemPartitions: true,
    DFUFileType: 'RELEASE',
    DataImage: false,
    FirmwareDirectory: '.',
    FlashNOR: true,
    KernelCacheType: 'Release',
    NORImageType: 'production',
    PersonalizedDuringPreflight: true,
    RestoreBundlePath: '/tmp/Per2.tmp',
    RootToInstall: false,
    SystemImage: true,
    SystemImageType: 'User',
    SystemPartitionPadding: input.systemPartitionPadding ?? DEFAULT_SYSTEM_PARTITION_PADDING,
    UUID: (input.uuid ?? randomUUID()).toUpperCase(),
    UpdateBaseband: input.updateBaseband ?? false,
  };
  if (input.tz0RequiredCapacity !== undefined) options.TZ0RequiredCapacity = input.tz0RequiredCapacity;
  if (input.restoreBootArgs !== undefined) options.RestoreBootArgs = input.restoreBootArgs;
  return { ...options, ...(input.extra ?? {}) };
}
