// lockdownd (device port 62078 in normal mode): request builders and typed reply decoding.
// Requests are plain dicts {Label, Request, …}; replies echo `Request` and report failures as an
// `Error` string (restore-protocol.md §9.1). Framing is the 4-byte big-endian plist service frame.
import { ProtocolError } from '../errors';
import {
  optionalBoolean,
  optionalData,
  optionalInteger,
  optionalString,
  requireInteger,
  requireString,
} from '../plist/fields';
import { decodePlistDict, isPlistDict, type PlistDict, type PlistValue } from '../plist/plist';

export const LOCKDOWN_PORT = 62078;
export const LOCKDOWN_SERVICE_TYPE = 'com.apple.mobile.lockdown';
export const LOCKDOWN_BATTERY_DOMAIN = 'com.apple.mobile.battery';
export const DEFAULT_LOCKDOWN_LABEL = 'bench';

/** `Error` strings lockdownd is known to answer with; others arrive as plain strings. */
export const KNOWN_LOCKDOWN_ERRORS = [
  'SessionInactive',
  'InvalidHostID',
  'PasswordProtected',
  'PairingDialogResponsePending',
  'UserDeniedPairing',
  'GetProhibited',
  'SetProhibited',
  'MissingValue',
  'MissingKey',
  'InvalidService',
  'ServiceLimit',
  'ServiceProhibited',
  'InvalidRequest',
  'InvalidSessionID',
  'NoRunningSession',
  'InvalidPairRecord',
  'EscrowLocked',
  'MissingEscrowBag',
] as const;
export type KnownLockdownErrorCode = (typeof KNOWN_LOCKDOWN_ERRORS)[number];

/** The device refused a request: `code` is its `Error` string (e.g. SessionInactive). */
export class LockdownError extends Error {
  constructor(
    readonly code: string,
    readonly request: string,
  ) {
    super(`lockdownd refused ${request}: ${code}`);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }

  get known(): boolean {
    return (KNOWN_LOCKDOWN_ERRORS as readonly string[]).includes(this.code);
  }

  is(code: KnownLockdownErrorCode): boolean {
    return this.code === code;
  }
}

function request(label: string, name: string, extra: PlistDict = {}): PlistDict {
  return { Label: label, Request: name, ...extra };
}

export interface StartSessionIdentity {
  hostId: string;
  systemBuid: string;
}

export const lockdownRequests = {
  queryType: (label = DEFAULT_LOCKDOWN_LABEL) => request(label, 'QueryType'),
  /** Without `key` the whole domain (or the global domain) comes back as a dict. */
  getValue: (options: { domain?: string; key?: string } = {}, label = DEFAULT_LOCKDOWN_LABEL) => {
    const extra: PlistDict = {};
    if (options.domain !== undefined) extra.Domain = options.domain;
    if (options.key !== undefined) extra.Key = options.key;
    return request(label, 'GetValue', extra);
  },
  enterRecovery: (label = DEFAULT_LOCKDOWN_LABEL) => request(label, 'EnterRecovery'),
  startSession: (identity: StartSessionIdentity, label = DEFAULT_LOCKDOWN_LABEL) =>
    request(label, 'StartSession', { HostID: identity.hostId, SystemBUID: identity.systemBuid }),
  stopSession: (sessionId: string, label = DEFAULT_LOCKDOWN_LABEL) =>
    request(label, 'StopSession', { SessionID: sessionId }),
  startService: (service: string, options: { escrowBag?: Uint8Array } = {}, label = DEFAULT_LOCKDOWN_LABEL) =>
    request(
      label,
      'StartService',
      options.escrowBag ? { Service: service, EscrowBag: options.escrowBag } : { Service: service },
    ),
  goodbye: (label = DEFAULT_LOCKDOWN_LABEL) => request(label, 'Goodbye'),
};

/**
 * Checks a reply to `requestName`: an `Error` key becomes a LockdownError; a reply echoing a
 * different request is a ProtocolError (the stream is out of step).
 */
export function checkLockdownReply(reply: PlistDict, requestName: string): PlistDict {
  const echoed = optionalString(reply, 'Request');
  const error = reply.Error;
  if (error !== undefined) {
    throw new LockdownError(typeof error === 'string' ? error : 'UnknownError', echoed ?? requestName);
  }
  if (echoed !== undefined && echoed !== requestName) {
    throw new ProtocolError(
      `lockdownd answered '${echoed}' to a '${requestName}' request`,
      'lockdown reply Request',
    );
  }
  return reply;
}

export function decodeQueryTypeReply(reply: PlistDict): string {
  return requireString(checkLockdownReply(reply, 'QueryType'), 'Type', 'QueryType reply');
}

/** `Value` of a GetValue reply; undefined when the device has no such key. */
export function decodeGetValueReply(reply: PlistDict): PlistValue | undefined {
  return checkLockdownReply(reply, 'GetValue').Value;
}

export interface StartSessionReply {
  sessionId: string;
  enableSessionSsl: boolean;
}

export function decodeStartSessionReply(reply: PlistDict): StartSessionReply {
  checkLockdownReply(reply, 'StartSession');
  return {
    sessionId: requireString(reply, 'SessionID', 'StartSession reply'),
    enableSessionSsl: optionalBoolean(reply, 'EnableSessionSSL') ?? false,
  };
}

export interface StartServiceReply {
  service?: string;
  port: number;
  enableServiceSsl: boolean;
}

export function decodeStartServiceReply(reply: PlistDict): StartServiceReply {
  checkLockdownReply(reply, 'StartService');
  const port = requireInteger(reply, 'Port', 'StartService reply');
  if (port < 1 || port > 0xffff) throw new ProtocolError(`StartService returned port ${port}`, 'Port');
  return {
    service: optionalString(reply, 'Service'),
    port,
    enableServiceSsl: optionalBoolean(reply, 'EnableServiceSSL') ?? false,
  };
}

/** `com.apple.mobile.battery` domain. Absent keys stay undefined: devices differ. */
export interface LockdownBattery {
  /** Percent, 0–100. */
  currentCapacity?: number;
  isCharging?: boolean;
  externalChargeCapable?: boolean;
  externalConnected?: boolean;
  fullyCharged?: boolean;
  gasGaugeCapability?: boolean;
  hasBattery?: boolean;
}

export function decodeLockdownBattery(value: PlistValue | undefined): LockdownBattery {
  if (!isPlistDict(value)) {
    throw new ProtocolError(`the ${LOCKDOWN_BATTERY_DOMAIN} domain is not a dictionary`, 'battery domain');
  }
  const capacity = optionalInteger(value, 'BatteryCurrentCapacity');
  if (capacity !== undefined && (capacity < 0 || capacity > 100)) {
    throw new ProtocolError(
      `BatteryCurrentCapacity ${capacity} is not a percentage`,
      'BatteryCurrentCapacity',
    );
  }
  return {
    currentCapacity: capacity,
    isCharging: optionalBoolean(value, 'BatteryIsCharging'),
    externalChargeCapable: optionalBoolean(value, 'ExternalChargeCapable'),
    externalConnected: optionalBoolean(value, 'ExternalConnected'),
    fullyCharged: optionalBoolean(value, 'FullyCharged'),
    gasGaugeCapability: optionalBoolean(value, 'GasGaugeCapability'),
    hasBattery: optionalBoolean(value, 'HasBattery'),
  };
}

/**
 * A pair record as usbmuxd stores it (`/var/lib/lockdown/<udid>.plist`). Certificates and keys
 * are PEM text held as plist data.
 */
export interface PairRecord {
  hostId: string;
  systemBuid: string;
  hostCertificate: Uint8Array;
  hostPrivateKey: Uint8Array;
  rootCertificate: Uint8Array;
  deviceCertificate: Uint8Array;
  rootPrivateKey?: Uint8Array;
  wifiMacAddress?: string;
  escrowBag?: Uint8Array;
}

/** Decodes a pair record from its plist bytes (usbmuxd hands out binary) or an already decoded dict. */
export function decodePairRecord(input: Uint8Array | PlistDict): PairRecord {
  const dict = input instanceof Uint8Array ? decodePlistDict(input) : input;
  const what = 'pair record';
  return {
    hostId: requireString(dict, 'HostID', what),
    systemBuid: requireString(dict, 'SystemBUID', what),
    hostCertificate: requireData(dict, 'HostCertificate', what),
    hostPrivateKey: requireData(dict, 'HostPrivateKey', what),
    rootCertificate: requireData(dict, 'RootCertificate', what),
    deviceCertificate: requireData(dict, 'DeviceCertificate', what),
    rootPrivateKey: optionalData(dict, 'RootPrivateKey'),
    wifiMacAddress: optionalString(dict, 'WiFiMACAddress'),
    escrowBag: optionalData(dict, 'EscrowBag'),
  };
}

export function encodePairRecord(record: PairRecord): PlistDict {
  const dict: PlistDict = {
    DeviceCertificate: record.deviceCertificate,
    HostCertificate: record.hostCertificate,
    HostID: record.hostId,
    HostPrivateKey: record.hostPrivateKey,
    RootCertificate: record.rootCertificate,
    SystemBUID: record.systemBuid,
  };
  if (record.rootPrivateKey) dict.RootPrivateKey = record.rootPrivateKey;
  if (record.wifiMacAddress !== undefined) dict.WiFiMACAddress = record.wifiMacAddress;
  if (record.escrowBag) dict.EscrowBag = record.escrowBag;
  return dict;
}

function requireData(dict: PlistDict, key: string, what: string): Uint8Array {
  const value = optionalData(dict, key);
  if (value === undefined) throw new ProtocolError(`${what} lacks the required key '${key}'`, key);
  return value;
}
