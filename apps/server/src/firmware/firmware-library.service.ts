// The firmware library as the API lists it: the IPSWs in the cache the agents restore from (on
// a one-PC bench the server shares that directory), each with its manifest's build and models,
// its verified hashes, and whether Apple still signs it (from the catalog, cached; unknown when
// the catalog does not answer).
import { Inject, Injectable } from '@nestjs/common';
import { BENCH_ENV } from '@bench/app-runtime';
import type { BenchEnv } from '@bench/config';
import type { FirmwareView } from '@bench/events';
import { CatalogClient, FirmwareCache, IpswArchive } from '@bench/firmware';

const SIGNED_FRESH_MS = 10 * 60_000;
const CATALOG_TIMEOUT_MS = 5_000;

interface ManifestFacts {
  build: string | null;
  version: string | null;
  productTypes: string[];
  problem?: string;
}

@Injectable()
export class FirmwareLibraryService {
  private readonly cache: FirmwareCache;
  private readonly catalog: CatalogClient;
  private readonly manifests = new Map<string, ManifestFacts>();
  private readonly signedBuilds = new Map<string, { at: number; builds: Map<string, boolean> }>();

  constructor(@Inject(BENCH_ENV) env: BenchEnv) {
    this.cache = new FirmwareCache(env.firmware.dir, env.firmware.cacheLimitBytes);
    this.catalog = new CatalogClient({ baseUrl: env.firmware.catalogUrl, timeoutMs: CATALOG_TIMEOUT_MS });
  }

  async list(): Promise<FirmwareView[]> {
    const files = (await this.cache.list()).filter((file) => file.fileName.toLowerCase().endsWith('.ipsw'));
    return Promise.all(
      files.map(async (file) => {
        const facts = await this.manifest(file.path, file.size, file.lastUsed.getTime());
        const record = await this.cache.readRecord(file.fileName);
        return {
          fileName: file.fileName,
          build: facts.build,
          version: facts.version,
          productTypes: facts.productTypes,
          sizeBytes: file.size,
          sha1: record?.sha1 ?? null,
          sha256: record?.sha256 ?? null,
          url: record?.url ?? null,
          signed: facts.build ? await this.signed(facts.productTypes[0], facts.build) : null,
          lastUsed: file.lastUsed.toISOString(),
          ...(facts.problem ? { problem: facts.problem } : {}),
        };
      }),
    );
  }

  private async manifest(file: string, size: number, mtime: number): Promise<ManifestFacts> {
    const key = `${file}\u0000${size}\u0000${mtime}`;
    const known = this.manifests.get(key);
    if (known) return known;
    let facts: ManifestFacts;
    try {
      const archive = await IpswArchive.open(file);
      try {
        const manifest = await archive.readBuildManifest();
        facts = {
          build: manifest.productBuildVersion,
          version: manifest.productVersion,
          productTypes: [...manifest.supportedProductTypes],
        };
      } finally {
        await archive.close();
      }
    } catch (error) {
      facts = { build: null, version: null, productTypes: [], problem: (error as Error).message };
    }
    this.manifests.set(key, facts);
    return facts;
  }

  private async signed(productType: string | undefined, build: string): Promise<boolean | null> {
    if (!productType) return null;
    const cached = this.signedBuilds.get(productType);
    if (cached && Date.now() - cached.at < SIGNED_FRESH_MS) return cached.builds.get(build) ?? null;
    try {
      const firmwares = await this.catalog.listFirmwares(productType, {
        signal: AbortSignal.timeout(CATALOG_TIMEOUT_MS),
      });
      const builds = new Map(firmwares.map((f) => [f.build, f.signed]));
      this.signedBuilds.set(productType, { at: Date.now(), builds });
      return builds.get(build) ?? null;
    } catch {
      // Offline benches are common: ask again in a minute rather than on every listing.
      this.signedBuilds.set(productType, { at: Date.now() - SIGNED_FRESH_MS + 60_000, builds: new Map() });
      return null;
    }
  }
}
