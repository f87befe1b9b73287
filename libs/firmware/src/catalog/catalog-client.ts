// The firmware catalog: an ipsw.me-style JSON API (restore-protocol §7.5) at a configurable base
// URL: `GET <base>/device/<ProductType>?type=ipsw` lists builds with their URL, size, checksums
// and whether Apple still signs them; `GET <base>/devices` lists devices. Answers are validated
// with zod so a changed or broken API fails with a message naming the field.
import { z } from 'zod';
import { CancelledError } from '@bench/bench-domain';
import { FirmwareServiceError } from '../errors';

const FirmwareSchema = z.object({
  identifier: z.string(),
  version: z.string(),
  buildid: z.string(),
  url: z.string().url(),
  filesize: z.number().int().nonnegative(),
  sha1sum: z
    .string()
    .regex(/^[0-9a-f]{40}$/i, 'expected 40 hex digits')
    .optional(),
  sha256sum: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'expected 64 hex digits')
    .optional(),
  md5sum: z.string().optional(),
  signed: z.boolean(),
  releasedate: z.string().nullable().optional(),
});

const DeviceSchema = z.object({
  name: z.string(),
  identifier: z.string(),
  firmwares: z.array(FirmwareSchema),
});

const DeviceListSchema = z.array(z.object({ name: z.string(), identifier: z.string() }));

export interface CatalogFirmware {
  productType: string;
  version: string;
  build: string;
  url: string;
  size: number;
  sha1?: string;
  sha256?: string;
  signed: boolean;
  releaseDate?: string;
}

export interface CatalogDevice {
  productType: string;
  name: string;
}

export interface FirmwareCatalog {
  listFirmwares(productType: string, options?: { signal?: AbortSignal }): Promise<CatalogFirmware[]>;
  /** One build, or the newest signed one for 'latest-signed'. */
  resolve(productType: string, build: string, options?: { signal?: AbortSignal }): Promise<CatalogFirmware>;
}

export interface CatalogClientOptions {
  baseUrl: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export const LATEST_SIGNED = 'latest-signed';

export class CatalogClient implements FirmwareCatalog {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: CatalogClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  async listDevices(options: { signal?: AbortSignal } = {}): Promise<CatalogDevice[]> {
    const body = await this.getJson(`${this.baseUrl}/devices`, options.signal);
    return this.validate(DeviceListSchema, body, 'devices').map((d) => ({
      productType: d.identifier,
      name: d.name,
    }));
  }

  async listFirmwares(
    productType: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<CatalogFirmware[]> {
    // Commas stay literal, as in ipsw.me's own URLs (`/device/iPhone10,1`).
    if (!/^[A-Za-z0-9]+\d+,\d+$/.test(productType)) {
      throw new RangeError(`'${productType}' is not a product type such as iPhone10,1`);
    }
    const url = `${this.baseUrl}/device/${productType}?type=ipsw`;
    const device = this.validate(
      DeviceSchema,
      await this.getJson(url, options.signal),
      `device/${productType}`,
    );
    return device.firmwares.map((f) => ({
      productType: f.identifier,
      version: f.version,
      build: f.buildid,
      url: f.url,
      size: f.filesize,
      sha1: f.sha1sum?.toLowerCase(),
      sha256: f.sha256sum?.toLowerCase(),
      signed: f.signed,
      releaseDate: f.releasedate ?? undefined,
    }));
  }

  async resolve(
    productType: string,
    build: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<CatalogFirmware> {
    const firmwares = await this.listFirmwares(productType, options);
    if (build === LATEST_SIGNED || build === 'latest') {
      const newest = newestSigned(firmwares);
      if (!newest)
        throw new FirmwareServiceError(`the catalog lists no signed build for ${productType}`, {
          detail: productType,
        });
      return newest;
    }
    const match = firmwares.find((f) => f.build.toLowerCase() === build.toLowerCase());
    if (!match) {
      throw new FirmwareServiceError(
        `the catalog has no build ${build} for ${productType}; it has: ${firmwares.map((f) => `${f.version} (${f.build})`).join(', ') || 'none'}`,
        { detail: `${productType} ${build}` },
      );
    }
    return match;
  }

  private async getJson(url: string, signal: AbortSignal | undefined): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        headers: { accept: 'application/json' },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw new CancelledError('catalog request cancelled', {}, { cause: error });
      throw new FirmwareServiceError(
        `cannot reach the firmware catalog at ${url}: ${(error as Error).message}`,
        { detail: url },
        { cause: error },
      );
    }
    if (!response.ok) {
      throw new FirmwareServiceError(`the firmware catalog answered HTTP ${response.status} for ${url}`, {
        detail: url,
        statusCode: response.status,
      });
    }
    try {
      return (await response.json()) as unknown;
    } catch (error) {
      throw new FirmwareServiceError(
        `the firmware catalog sent invalid JSON for ${url}`,
        { detail: url },
        { cause: error },
      );
    }
  }

  private validate<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new FirmwareServiceError(
      `the firmware catalog's ${what} answer is not what bench expects: ${issues}`,
      { detail: what },
    );
  }
}

/** The signed build with the highest version (dotted numeric compare), newest release date breaking ties. */
export function newestSigned(firmwares: readonly CatalogFirmware[]): CatalogFirmware | undefined {
  return [...firmwares]
    .filter((f) => f.signed)
    .sort(
      (a, b) =>
        compareVersions(b.version, a.version) || (b.releaseDate ?? '').localeCompare(a.releaseDate ?? ''),
    )[0];
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const pb = b.split('.').map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
