// Restore.plist (restore-protocol §7.4): only custom/legacy restores need it, but it names the
// boards an IPSW is for and the ramdisks, so `bench firmware inspect` shows it when present.
import { FirmwareInvalidError } from '@bench/bench-domain';
import { decodePlistDict, isPlistDict, type PlistDict, type PlistValue } from '@bench/protocols';

export interface RestoreDeviceMapEntry {
  boardConfig?: string;
  cpid?: number;
  bdid?: number;
  platform?: string;
}

export interface RestorePlist {
  productType?: string;
  productVersion?: string;
  productBuildVersion?: string;
  supportedProductTypes: string[];
  deviceMap: RestoreDeviceMapEntry[];
  restoreRamDisks: { user?: string; update?: string };
  systemRestoreImages: { user?: string };
  restoreKernelCaches: Record<string, string>;
  raw: PlistDict;
}

export function parseRestorePlist(bytes: Uint8Array, source = 'Restore.plist'): RestorePlist {
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
  const ramDisks = dict(raw.RestoreRamDisks);
  const images = dict(raw.SystemRestoreImages);
  return {
    productType: str(raw.ProductType),
    productVersion: str(raw.ProductVersion),
    productBuildVersion: str(raw.ProductBuildVersion),
    supportedProductTypes: Array.isArray(raw.SupportedProductTypes)
      ? raw.SupportedProductTypes.filter((v): v is string => typeof v === 'string')
      : [],
    deviceMap: (Array.isArray(raw.DeviceMap) ? raw.DeviceMap : []).filter(isPlistDict).map((entry) => ({
      boardConfig: str(entry.BoardConfig),
      cpid: num(entry.CPID),
      bdid: num(entry.BDID),
      platform: str(entry.Platform),
    })),
    restoreRamDisks: { user: str(ramDisks.User), update: str(ramDisks.Update) },
    systemRestoreImages: { user: str(images.User) },
    restoreKernelCaches: Object.fromEntries(
      Object.entries(dict(raw.RestoreKernelCaches)).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    ),
    raw,
  };
}

function dict(value: PlistValue | undefined): PlistDict {
  return isPlistDict(value) ? value : {};
}
function str(value: PlistValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
function num(value: PlistValue | undefined): number | undefined {
  return typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined;
}
