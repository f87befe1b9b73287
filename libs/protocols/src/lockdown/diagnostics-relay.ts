// com.apple.mobile.diagnostics_relay (started through lockdownd StartService; same plist service
// framing): IORegistry queries for the battery and their typed decoding (restore-protocol.md §9.2).
import { ProtocolError } from '../errors';
import { optionalBoolean, optionalString } from '../plist/fields';
import { isPlistDict, type PlistDict, type PlistValue } from '../plist/plist';

export const DIAGNOSTICS_RELAY_SERVICE = 'com.apple.mobile.diagnostics_relay';
export const SMART_BATTERY_ENTRY_NAME = 'AppleSmartBattery';
export const POWER_SOURCE_ENTRY_CLASS = 'IOPMPowerSource';

export interface IoRegistryQuery {
  entryName?: string;
  entryClass?: string;
  currentPlane?: string;
}

export const diagnosticsRequests = {
  ioregistry: (query: IoRegistryQuery): PlistDict => {
    const dict: PlistDict = { Request: 'IORegistry' };
    if (query.currentPlane !== undefined) dict.CurrentPlane = query.currentPlane;
    if (query.entryName !== undefined) dict.EntryName = query.entryName;
    if (query.entryClass !== undefined) dict.EntryClass = query.entryClass;
    return dict;
  },
  /** By class: newer iPhones expose the battery under another entry name (AppleARMPMUCharger). */
  batteryByClass: (): PlistDict => diagnosticsRequests.ioregistry({ entryClass: POWER_SOURCE_ENTRY_CLASS }),
  batteryByName: (): PlistDict => diagnosticsRequests.ioregistry({ entryName: SMART_BATTERY_ENTRY_NAME }),
  goodbye: (): PlistDict => ({ Request: 'Goodbye' }),
};

/** The relay answered with a Status other than Success (e.g. Failure, UnknownRequest). */
export class DiagnosticsRelayError extends Error {
  constructor(readonly status: string) {
    super(`diagnostics relay answered ${status}`);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export function checkDiagnosticsReply(reply: PlistDict): PlistDict {
  const status = optionalString(reply, 'Status');
  if (status !== 'Success') throw new DiagnosticsRelayError(status ?? 'no Status');
  return reply;
}

/** The property dict of an IORegistry reply: `{Status: Success, Diagnostics: {IORegistry: {…}}}`. */
export function decodeIoRegistryReply(reply: PlistDict): PlistDict {
  checkDiagnosticsReply(reply);
  const diagnostics = reply.Diagnostics;
  const registry = isPlistDict(diagnostics) ? diagnostics.IORegistry : undefined;
  if (!isPlistDict(registry)) {
    throw new ProtocolError('IORegistry reply lacks Diagnostics.IORegistry', 'Diagnostics.IORegistry');
  }
  return registry;
}

/** Battery readings from AppleSmartBattery / IOPMPowerSource, in conventional units. */
export interface DiagnosticsBattery {
  voltageMv?: number;
  /** Signed: negative while discharging. */
  instantAmperageMa?: number;
  amperageMa?: number;
  /** The registry holds centi-degrees (3024 = 30.24 °C). */
  temperatureC?: number;
  cycleCount?: number;
  currentCapacity?: number;
  maxCapacity?: number;
  designCapacity?: number;
  rawCurrentCapacityMah?: number;
  rawMaxCapacityMah?: number;
  nominalChargeCapacityMah?: number;
  isCharging?: boolean;
  externalConnected?: boolean;
  externalChargeCapable?: boolean;
  fullyCharged?: boolean;
  batteryInstalled?: boolean;
}

export function decodeBatteryRegistry(props: PlistDict): DiagnosticsBattery {
  const temperature = signedInteger(props, 'Temperature');
  return {
    voltageMv: signedInteger(props, 'Voltage'),
    instantAmperageMa: signedInteger(props, 'InstantAmperage'),
    amperageMa: signedInteger(props, 'Amperage'),
    temperatureC: temperature === undefined ? undefined : temperature / 100,
    cycleCount: signedInteger(props, 'CycleCount'),
    currentCapacity: signedInteger(props, 'CurrentCapacity'),
    maxCapacity: signedInteger(props, 'MaxCapacity'),
    designCapacity: signedInteger(props, 'DesignCapacity'),
    rawCurrentCapacityMah: signedInteger(props, 'AppleRawCurrentCapacity'),
    rawMaxCapacityMah: signedInteger(props, 'AppleRawMaxCapacity'),
    nominalChargeCapacityMah: signedInteger(props, 'NominalChargeCapacity'),
    isCharging: optionalBoolean(props, 'IsCharging'),
    externalConnected: optionalBoolean(props, 'ExternalConnected'),
    externalChargeCapable: optionalBoolean(props, 'ExternalChargeCapable'),
    fullyCharged: optionalBoolean(props, 'FullyCharged'),
    batteryInstalled: optionalBoolean(props, 'BatteryInstalled'),
  };
}

const TWO_63 = 2n ** 63n;
const TWO_64 = 2n ** 64n;

/**
 * IORegistry numbers are 64-bit; signed ones (amperage while discharging) can arrive as their
 * unsigned two's-complement value. Exact for bigint input; for a JS number above 2^53 (an XML
 * plist parsed into a double) the low bits are already lost, so the result is approximate.
 */
function signedInteger(dict: PlistDict, key: string): number | undefined {
  const value: PlistValue | undefined = dict[key];
  if (value === undefined) return undefined;
  if (typeof value === 'bigint') return Number(value >= TWO_63 ? value - TWO_64 : value);
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ProtocolError(`IORegistry '${key}' should be an integer`, key);
  }
  return value >= 2 ** 63 ? value - 2 ** 64 : value;
}
