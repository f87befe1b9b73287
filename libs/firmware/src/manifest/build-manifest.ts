// BuildManifest.plist (and its legacy twin BuildManifesto.plist) as typed structures
// (restore-protocol §7.2). The raw dictionaries stay attached: a TSS request copies identity and
// component keys that this model does not name.
import { FirmwareInvalidError } from '@bench/bench-domain';
import {
  decodePlistDict,
  isPlistDict,
  parseHexField,
  type PlistDict,
  type PlistValue,
} from '@bench/protocols';

export interface ManifestComponent {
  name: string;
  /** SHA-384 (48 bytes) on every Image4 manifest seen; SHA-1 (20) on older builds. */
  digest?: Uint8Array;
  trusted: boolean;
  buildString?: string;
  /** `Info.Path`: the member of the IPSW holding this component. */
  path?: string;
  /** `Info.Img4PayloadType`: the tag the personalized image carries (e.g. `rkrn`). */
  payloadType?: string;
  hashMethod?: string;
  isFirmwarePayload: boolean;
  isSecondaryFirmwarePayload: boolean;
  isLoadedByiBoot: boolean;
  isLoadedByiBootStage1: boolean;
  isFUDFirmware: boolean;
  isFTAB: boolean;
  personalize: boolean;
  hasRestoreRequestRules: boolean;
  raw: PlistDict;
}

export type RestoreBehavior = 'Erase' | 'Update';

export interface BuildIdentityInfo {
  deviceClass: string;
  variant?: string;
  restoreBehavior?: string;
  buildNumber?: string;
  buildTrain?: string;
  fdrSupport?: boolean;
  minimumSystemPartition?: number;
  systemPartitionPadding?: Record<string, number>;
  requiresUIDMode?: boolean;
  requiresNonceSlot?: boolean;
  mobileDeviceMinVersion?: string;
  raw: PlistDict;
}

export interface BuildIdentity {
  /** Position in BuildIdentities. */
  index: number;
  apChipId: number;
  apBoardId: number;
  apSecurityDomain: number;
  uniqueBuildId?: Uint8Array;
  /** `Ap,ProductType`, present on newer manifests. */
  productType?: string;
  info: BuildIdentityInfo;
  components: Record<string, ManifestComponent>;
  raw: PlistDict;
}

export interface BuildManifest {
  productVersion: string;
  productBuildVersion: string;
  supportedProductTypes: string[];
  manifestVersion?: number;
  identities: BuildIdentity[];
  raw: PlistDict;
}

/** Decodes and types a BuildManifest; malformed content is a FirmwareInvalidError naming the field. */
export function parseBuildManifest(bytes: Uint8Array, source = 'BuildManifest.plist'): BuildManifest {
  let raw: PlistDict;
  try {
    raw = decodePlistDict(bytes);
  } catch (error) {
    throw new FirmwareInvalidError(
      `${source}: ${(error as Error).message}`,
      { detail: source },
      { cause: error },
    );
  }
  return buildManifestFromDict(raw, source);
}

export function buildManifestFromDict(raw: PlistDict, source = 'BuildManifest.plist'): BuildManifest {
  const read = new FieldReader(source);
  const identities = read.array(raw, 'BuildIdentities', 'BuildManifest');
  return {
    productVersion: read.string(raw, 'ProductVersion', 'BuildManifest'),
    productBuildVersion: read.string(raw, 'ProductBuildVersion', 'BuildManifest'),
    supportedProductTypes: read
      .array(raw, 'SupportedProductTypes', 'BuildManifest')
      .map((value, i) => read.expectString(value, `SupportedProductTypes[${i}]`)),
    manifestVersion: typeof raw.ManifestVersion === 'number' ? raw.ManifestVersion : undefined,
    identities: identities.map((value, index) => parseIdentity(read, value, index)),
    raw,
  };
}

function parseIdentity(read: FieldReader, value: PlistValue, index: number): BuildIdentity {
  const where = `BuildIdentities[${index}]`;
  const raw = read.expectDict(value, where);
  const infoRaw = read.dict(raw, 'Info', where);
  const manifest = read.dict(raw, 'Manifest', where);
  const components: Record<string, ManifestComponent> = {};
  for (const [name, entry] of Object.entries(manifest)) {
    components[name] = parseComponent(read, name, read.expectDict(entry, `${where}.Manifest.${name}`));
  }
  return {
    index,
    apChipId: read.hex(raw, 'ApChipID', where),
    apBoardId: read.hex(raw, 'ApBoardID', where),
    apSecurityDomain: read.hex(raw, 'ApSecurityDomain', where),
    uniqueBuildId: raw.UniqueBuildID instanceof Uint8Array ? raw.UniqueBuildID : undefined,
    productType: typeof raw['Ap,ProductType'] === 'string' ? raw['Ap,ProductType'] : undefined,
    info: parseInfo(read, infoRaw, `${where}.Info`),
    components,
    raw,
  };
}

function parseInfo(read: FieldReader, raw: PlistDict, where: string): BuildIdentityInfo {
  const padding = raw.SystemPartitionPadding;
  return {
    deviceClass: read.string(raw, 'DeviceClass', where),
    variant: optionalString(raw.Variant),
    restoreBehavior: optionalString(raw.RestoreBehavior),
    buildNumber: optionalString(raw.BuildNumber),
    buildTrain: optionalString(raw.BuildTrain),
    fdrSupport: optionalBoolean(raw.FDRSupport),
    minimumSystemPartition:
      typeof raw.MinimumSystemPartition === 'number' ? raw.MinimumSystemPartition : undefined,
    systemPartitionPadding: isPlistDict(padding)
      ? Object.fromEntries(
          Object.entries(padding).filter((e): e is [string, number] => typeof e[1] === 'number'),
        )
      : undefined,
    requiresUIDMode: optionalBoolean(raw.RequiresUIDMode),
    requiresNonceSlot: optionalBoolean(raw.RequiresNonceSlot),
    mobileDeviceMinVersion: optionalString(raw.MobileDeviceMinVersion),
    raw,
  };
}

function parseComponent(read: FieldReader, name: string, raw: PlistDict): ManifestComponent {
  const info = isPlistDict(raw.Info) ? raw.Info : {};
  const digest = raw.Digest;
  if (digest !== undefined && !(digest instanceof Uint8Array)) {
    throw read.error(`Manifest.${name}.Digest should be data`);
  }
  const flag = (key: string): boolean => info[key] === true;
  return {
    name,
    digest,
    trusted: raw.Trusted === true,
    buildString: optionalString(raw.BuildString),
    path: optionalString(info.Path),
    payloadType: optionalString(info.Img4PayloadType),
    hashMethod: optionalString(info.HashMethod),
    isFirmwarePayload: flag('IsFirmwarePayload'),
    isSecondaryFirmwarePayload: flag('IsSecondaryFirmwarePayload'),
    isLoadedByiBoot: flag('IsLoadedByiBoot'),
    isLoadedByiBootStage1: flag('IsLoadedByiBootStage1'),
    isFUDFirmware: flag('IsFUDFirmware'),
    isFTAB: flag('IsFTAB'),
    personalize: flag('Personalize'),
    hasRestoreRequestRules: Array.isArray(info.RestoreRequestRules),
    raw,
  };
}

function optionalString(value: PlistValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optionalBoolean(value: PlistValue | undefined): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

/** Typed reads that fail with a FirmwareInvalidError naming the manifest and the field. */
class FieldReader {
  constructor(private readonly source: string) {}

  error(message: string): FirmwareInvalidError {
    return new FirmwareInvalidError(`${this.source}: ${message}`, { detail: this.source });
  }

  string(dict: PlistDict, key: string, where: string): string {
    return this.expectString(dict[key], `${where}.${key}`);
  }

  expectString(value: PlistValue | undefined, where: string): string {
    if (typeof value !== 'string') throw this.error(`${where} should be a string`);
    return value;
  }

  dict(dict: PlistDict, key: string, where: string): PlistDict {
    return this.expectDict(dict[key], `${where}.${key}`);
  }

  expectDict(value: PlistValue | undefined, where: string): PlistDict {
    if (!isPlistDict(value)) throw this.error(`${where} should be a dictionary`);
    return value;
  }

  array(dict: PlistDict, key: string, where: string): PlistValue[] {
    const value = dict[key];
    if (!Array.isArray(value)) throw this.error(`${where}.${key} should be an array`);
    return value;
  }

  hex(dict: PlistDict, key: string, where: string): number {
    try {
      return parseHexField(dict[key], key);
    } catch (error) {
      throw this.error(`${where}.${key}: ${(error as Error).message}`);
    }
  }
}
