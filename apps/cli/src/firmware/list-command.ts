// `bench firmware list [--product P]`: builds from the firmware catalog (ipsw.me-style API at
// BENCH_CATALOG_URL), or the catalog's devices when no product is given.
import { loadEnv } from '@bench/config';
import { CatalogClient } from '@bench/firmware';
import { firmwareAction } from './firmware-errors';

export interface ListOptions {
  product?: string;
  json?: boolean;
}

export function listCommand(
  options: ListOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  return firmwareAction(async () => {
    const catalog = new CatalogClient({ baseUrl: loadEnv().firmware.catalogUrl });
    if (!options.product) {
      const devices = (await catalog.listDevices()).filter((d) => d.productType.startsWith('iPhone'));
      if (options.json) out.write(`${JSON.stringify(devices, null, 2)}\n`);
      else out.write(`${devices.map((d) => `${d.productType.padEnd(12)}  ${d.name}`).join('\n')}\n`);
      return 0;
    }
    const firmwares = await catalog.listFirmwares(options.product);
    if (options.json) {
      out.write(`${JSON.stringify(firmwares, null, 2)}\n`);
      return 0;
    }
    const lines = [`${'VERSION'.padEnd(10)}  ${'BUILD'.padEnd(10)}  SIGNED  ${'SIZE'.padStart(9)}  URL`];
    for (const f of firmwares) {
      lines.push(
        `${f.version.padEnd(10)}  ${f.build.padEnd(10)}  ${(f.signed ? 'yes' : 'no').padEnd(6)}  ${formatSize(f.size).padStart(9)}  ${f.url}`,
      );
    }
    out.write(`${lines.join('\n')}\n`);
    return 0;
  }, err);
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${bytes} B`;
}
