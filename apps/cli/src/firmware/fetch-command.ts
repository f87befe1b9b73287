// `bench firmware fetch <product> <build|latest>`: resolve through the catalog and download into
// the firmware cache (BENCH_FIRMWARE_DIR, limited to BENCH_FIRMWARE_CACHE_GB), verified.
import { loadEnv } from '@bench/config';
import { CatalogClient, FirmwareDownloader, LATEST_SIGNED } from '@bench/firmware';
import { firmwareAction } from './firmware-errors';
import { formatSize } from './list-command';

export function fetchCommand(
  product: string,
  build: string,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  return firmwareAction(async () => {
    const env = loadEnv();
    const catalog = new CatalogClient({ baseUrl: env.firmware.catalogUrl });
    const entry = await catalog.resolve(product, build === 'latest' ? LATEST_SIGNED : build);
    err.write(
      `${product}: iOS ${entry.version} (${entry.build}), ${formatSize(entry.size)}${entry.signed ? '' : ', NOT signed'}\n`,
    );
    const downloader = new FirmwareDownloader({
      dir: env.firmware.dir,
      cacheLimitBytes: env.firmware.cacheLimitBytes,
    });
    downloader.on('evicted', (name) => err.write(`evicted ${name} (cache limit)\n`));
    let shown = -1;
    const file = await downloader.download(
      { url: entry.url, size: entry.size, sha1: entry.sha1, sha256: entry.sha256 },
      {
        onProgress: ({ bytes, total }) => {
          const percent = total ? Math.floor((bytes / total) * 100) : -1;
          if (percent !== shown && percent % 10 === 0) {
            shown = percent;
            err.write(`downloading: ${percent}%\n`);
          }
        },
      },
    );
    out.write(`${file}\n`);
    return 0;
  }, err);
}
