// The AP (Image4) part of a TSS signing request, built from a BuildManifest identity and the
// device's parameters the way libtatsu builds it (restore-protocol §5.2). Pure: the UUID
// generator is injected so requests are reproducible in tests.
import { randomUUID } from 'node:crypto';
import { ProtocolError } from '../errors';
import { isPlistDict, type PlistDict, type PlistValue } from '../plist/plist';

/** The device side of the request: what DFU/recovery/lockdown report about the phone. */
export interface TssDeviceParameters {
  ApECID: bigint | number;
  ApNonce: Uint8Array;
  SepNonce?: Uint8Array;
  ApProductionMode: boolean;
  ApSecurityMode: boolean;
  /** When given they must agree with the identity (a mismatch means the wrong identity). */
  ApChipID?: number;
  ApBoardID?: number;
  ApSecurityDomain?: number;
  /** Whether the device boots Image4 (every iPhone since the 5s). Default true. */
  ApSupportsImg4?: boolean;
  /** Only set for demotion requests; rules that test ApDemotionPolicyOverride fail without it. */
  DemotionPolicy?: string;
  /** Whether the request is made from SecureROM DFU. */
  ApInRomDFU?: boolean;
}

export interface TssRequestOptions {
  uuid?: () => string;
  /** "mac" like libtatsu on Unix. */
  hostPlatform?: string;
  versionInfo?: string;
}

/** A build identity as decoded from BuildManifest.plist, or a wrapper holding it as `raw`. */
export type TssIdentity = PlistDict | { readonly raw: PlistDict };

export class TssRequestError extends ProtocolError {
  constructor(message: string) {
    super(message, 'tss request');
  }
}

/** Components libtatsu never asks the AP ticket for (§5.2). */
export const TSS_EXCLUDED_COMPONENTS: ReadonlySet<string> = new Set([
  'BasebandFirmware',
  'SE,UpdatePayload',
  'BaseSystem',
  'Diags',
  'Ap,ExclaveOS',
]);

/** Identity keys copied as-is when present, besides every `Ap,*` key. */
const COPIED_IDENTITY_KEYS = ['NeRDEpoch', 'PearlCertificationRootPub'];

export function buildTssRequest(
  identityInput: TssIdentity,
  device: TssDeviceParameters,
  options: TssRequestOptions = {},
): PlistDict {
  const identity = identityDict(identityInput);
  const manifest = identity.Manifest;
  if (!isPlistDict(manifest)) throw new TssRequestError('build identity has no Manifest dictionary');
  const uniqueBuildId = identity.UniqueBuildID;
  if (!(uniqueBuildId instanceof Uint8Array))
    throw new TssRequestError('build identity has no UniqueBuildID data');
  if (!(device.ApNonce instanceof Uint8Array))
    throw new TssRequestError('ApNonce is required for an Image4 request');

  const request: PlistDict = {
    '@HostPlatformInfo': options.hostPlatform ?? 'mac',
    '@VersionInfo': options.versionInfo ?? 'libauthinstall-1104.0.9',
    '@UUID': (options.uuid ?? randomUUID)().toUpperCase(),
    '@ApImg4Ticket': true,
    ApECID: typeof device.ApECID === 'bigint' ? device.ApECID : BigInt(device.ApECID),
    UniqueBuildID: uniqueBuildId,
    ApChipID: identityNumber(identity, 'ApChipID', device.ApChipID),
    ApBoardID: identityNumber(identity, 'ApBoardID', device.ApBoardID),
    ApSecurityDomain: identityNumber(identity, 'ApSecurityDomain', device.ApSecurityDomain),
    ApNonce: device.ApNonce,
    ApProductionMode: device.ApProductionMode,
    ApSecurityMode: device.ApSecurityMode,
  };
  if (device.SepNonce) request.SepNonce = device.SepNonce;
  for (const [key, value] of Object.entries(identity)) {
    if (key.startsWith('Ap,') || COPIED_IDENTITY_KEYS.includes(key)) request[key] = value;
  }
  const parameters = ruleParameters(device);
  for (const [name, entry] of Object.entries(manifest)) {
    const component = tssComponentEntry(name, entry, parameters, device);
    if (component) request[name] = component;
  }
  return request;
}

function identityDict(input: TssIdentity): PlistDict {
  const raw: unknown = (input as { raw?: unknown }).raw;
  if (isPlistDict(raw)) return raw;
  return input as PlistDict;
}

/**
 * The request entry for one Manifest component, or undefined when libtatsu leaves it out:
 * excluded names, FTAB entries, entries without Info, and entries neither Trusted nor carrying
 * RestoreRequestRules.
 */
export function tssComponentEntry(
  name: string,
  entry: PlistValue,
  parameters: Readonly<Record<string, PlistValue>>,
  device: Pick<TssDeviceParameters, 'ApProductionMode' | 'ApSecurityMode'>,
): PlistDict | undefined {
  if (TSS_EXCLUDED_COMPONENTS.has(name) || !isPlistDict(entry)) return undefined;
  const info = entry.Info;
  if (!isPlistDict(info) || info.IsFTAB === true) return undefined;
  const rules = info.RestoreRequestRules;
  const trusted = entry.Trusted === true;
  if (!trusted && !Array.isArray(rules)) return undefined;

  const out: PlistDict = {};
  for (const [key, value] of Object.entries(entry)) if (key !== 'Info') out[key] = value;
  if (Array.isArray(rules)) {
    applyRestoreRequestRules(out, rules, parameters);
  } else {
    out.EPRO = device.ApProductionMode;
    out.ESEC = device.ApSecurityMode;
  }
  if (trusted && out.Digest === undefined) out.Digest = new Uint8Array(0);
  return out;
}

/** The values RestoreRequestRules conditions are compared against, by parameter name. */
export function ruleParameters(device: TssDeviceParameters): Record<string, PlistValue> {
  const parameters: Record<string, PlistValue> = {
    ApProductionMode: device.ApProductionMode,
    ApSecurityMode: device.ApSecurityMode,
    ApSupportsImg4: device.ApSupportsImg4 ?? true,
  };
  if (device.DemotionPolicy !== undefined) parameters.DemotionPolicy = device.DemotionPolicy;
  if (device.ApInRomDFU !== undefined) parameters.ApInRomDFU = device.ApInRomDFU;
  return parameters;
}

/** Which request parameter each rule condition reads (libtatsu's mapping). */
const CONDITION_PARAMETER: Readonly<Record<string, string>> = {
  ApRawProductionMode: 'ApProductionMode',
  ApCurrentProductionMode: 'ApProductionMode',
  ApRawSecurityMode: 'ApSecurityMode',
  ApRequiresImage4: 'ApSupportsImg4',
  ApDemotionPolicyOverride: 'DemotionPolicy',
  ApInRomDFU: 'ApInRomDFU',
};

/**
 * Applies each rule whose every condition holds (a condition on a parameter the request lacks,
 * or an unknown condition, does not hold) by merging its boolean Actions into the entry.
 */
export function applyRestoreRequestRules(
  entry: PlistDict,
  rules: readonly PlistValue[],
  parameters: Readonly<Record<string, PlistValue>>,
): void {
  for (const rule of rules) {
    if (!isPlistDict(rule) || !isPlistDict(rule.Conditions) || !isPlistDict(rule.Actions)) continue;
    const holds = Object.entries(rule.Conditions).every(([condition, expected]) => {
      const parameter = CONDITION_PARAMETER[condition];
      const actual = parameter === undefined ? undefined : parameters[parameter];
      return actual !== undefined && sameScalar(actual, expected);
    });
    if (!holds) continue;
    for (const [key, value] of Object.entries(rule.Actions)) {
      if (typeof value === 'boolean') entry[key] = value;
    }
  }
}

function sameScalar(a: PlistValue, b: PlistValue): boolean {
  if (typeof a === 'object' || typeof b === 'object') return false;
  return a === b;
}

function identityNumber(identity: PlistDict, key: string, fromDevice: number | undefined): number {
  const value = parseHexField(identity[key], key);
  if (fromDevice !== undefined && fromDevice !== value) {
    throw new TssRequestError(
      `device ${key} 0x${fromDevice.toString(16)} does not match the build identity's 0x${value.toString(16)}`,
    );
  }
  return value;
}

/** BuildManifest stores ApChipID/ApBoardID/ApSecurityDomain as "0x…" strings; accept integers too. */
export function parseHexField(value: PlistValue | undefined, key: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(value);
  if (typeof value === 'string' && /^0x[0-9a-f]{1,13}$/i.test(value.trim()))
    return Number.parseInt(value.trim(), 16);
  throw new TssRequestError(
    `build identity ${key} should be a "0x…" hex string, got ${JSON.stringify(String(value))}`,
  );
}
