// What the restore engine asks of the IPSW library: find the IPSW for a product and build (or the
// newest signed build), open it, and hand out its manifest and member sources.
import { FirmwareInvalidError, type RandomAccessSource } from '@bench/bench-domain';
import { IpswArchive } from '../ipsw/ipsw-archive';
import type { BuildManifest } from '../manifest/build-manifest';
import { LATEST_SIGNED, compareVersions, type FirmwareCatalog } from '../catalog/catalog-client';
import type { FirmwareDownloader, DownloadProgress } from '../download/firmware-downloader';
import { manifestCache } from './manifest-cache';

export interface ResolvedFirmware {
  productType: string;
  version: string;
  build: string;
  /** The IPSW on this host. */
  path: string;
}

export interface OpenFirmware {
  readonly firmware: ResolvedFirmware;
  readonly manifest: BuildManifest;
  readonly archive: IpswArchive;
  /** Random access into a (stored) member, e.g. the OS image for ASR. */
  memberSource(path: string): Promise<RandomAccessSource>;
  readMember(path: string): Promise<Buffer>;
  close(): Promise<void>;
}

export interface ResolveOptions {
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface FirmwareStore {
  /** `build` is a build number such as `22G100` or 'latest-signed'. */
  resolve(productType: string, build: string, options?: ResolveOptions): Promise<ResolvedFirmware>;
  open(firmware: ResolvedFirmware): Promise<OpenFirmware>;
}

/**
 * Opens an IPSW and reads its manifest; shared by the stores. The manifest is parsed once per
 * IPSW file and shared, read-only (frozen), by every restore of it (manifest-cache.ts).
 */
export async function openFirmware(firmware: ResolvedFirmware, extractDir?: string): Promise<OpenFirmware> {
  const archive = await IpswArchive.open(firmware.path);
  try {
    const manifest = await manifestCache.manifestOf(archive);
    return {
      firmware,
      manifest,
      archive,
      memberSource: (member) => archive.memberSource(member, { extractDir }),
      readMember: (member) => archive.readMember(member),
      close: () => archive.close(),
    };
  } catch (error) {
    await archive.close();
    throw error;
  }
}

/** Resolves through the catalog and downloads into the cache (the production store). */
export class CatalogFirmwareStore implements FirmwareStore {
  constructor(
    private readonly catalog: FirmwareCatalog,
    private readonly downloader: FirmwareDownloader,
    private readonly options: { extractDir?: string } = {},
  ) {}

  async resolve(productType: string, build: string, options: ResolveOptions = {}): Promise<ResolvedFirmware> {
    const entry = await this.catalog.resolve(productType, build, options);
    const path = await this.downloader.download(
      { url: entry.url, size: entry.size, sha1: entry.sha1, sha256: entry.sha256 },
      options,
    );
    return { productType, version: entry.version, build: entry.build, path };
  }

  open(firmware: ResolvedFirmware): Promise<OpenFirmware> {
    return openFirmware(firmware, this.options.extractDir);
  }
}

/**
 * IPSWs already on disk (the simulator's synthetic ones, a shop's local mirror): matched by
 * SupportedProductTypes and ProductBuildVersion. 'latest-signed' picks the highest version, as
 * nothing here knows what Apple signs.
 */
export class LocalFirmwareStore implements FirmwareStore {
  constructor(
    private readonly paths: readonly string[],
    private readonly options: { extractDir?: string } = {},
  ) {}

  async resolve(productType: string, build: string): Promise<ResolvedFirmware> {
    const candidates: ResolvedFirmware[] = [];
    for (const path of this.paths) {
      const manifest = await readManifest(path);
      if (!manifest.supportedProductTypes.includes(productType)) continue;
      candidates.push({
        productType,
        version: manifest.productVersion,
        build: manifest.productBuildVersion,
        path,
      });
    }
    const chosen =
      build === LATEST_SIGNED || build === 'latest'
        ? [...candidates].sort((a, b) => compareVersions(b.version, a.version))[0]
        : candidates.find((c) => c.build.toLowerCase() === build.toLowerCase());
    if (!chosen) {
      throw new FirmwareInvalidError(
        `no local IPSW for ${productType} build ${build}; have: ${candidates.map((c) => c.build).join(', ') || 'none'}`,
        { detail: `${productType} ${build}` },
      );
    }
    return chosen;
  }

  open(firmware: ResolvedFirmware): Promise<OpenFirmware> {
    return openFirmware(firmware, this.options.extractDir);
  }
}

function readManifest(path: string): Promise<BuildManifest> {
  return manifestCache.get(path, async () => {
    const archive = await IpswArchive.open(path);
    try {
      return await archive.readBuildManifest();
    } finally {
      await archive.close();
    }
  });
}
