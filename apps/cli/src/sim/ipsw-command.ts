// `bench sim ipsw`: writes a synthetic IPSW for simulated models (the lead wires the verb).
import { buildSyntheticIpsw } from '@bench/device-sim';

export interface SimIpswOptions {
  /** One product type, several in one string ("iPhone9,1,iPhone10,1" or space-separated), or a list. */
  product: string | string[];
  build?: string;
  version?: string;
  out: string;
  /** Bytes (a number or a string such as "8M", "2G"). */
  osSize?: number | string;
  manifesto?: boolean;
  seed?: string;
}

export async function simIpswCommand(
  options: SimIpswOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const productTypes = (Array.isArray(options.product) ? options.product : [options.product]).flatMap(
    splitProducts,
  );
  const result = await buildSyntheticIpsw({
    productTypes,
    buildVersion: options.build,
    productVersion: options.version,
    out: options.out,
    osSize: options.osSize === undefined ? undefined : parseSize(options.osSize),
    manifesto: options.manifesto,
    seed: options.seed,
  });
  out.write(
    [
      `wrote ${result.path} (${result.size} bytes)`,
      `iOS ${result.productVersion} (${result.buildVersion}) for ${result.productTypes.join(', ')}`,
      `OS image ${result.os.member}: ${result.os.size} bytes`,
      `sha1 ${result.sha1}`,
      `sha256 ${result.sha256}`,
    ].join('\n') + '\n',
  );
  return 0;
}

/** Product types contain a comma themselves, so a list is split by matching them, not on commas. */
export function splitProducts(value: string): string[] {
  const found = value.match(/[A-Za-z]+\d+,\d+/g) ?? [];
  if (found.length === 0) throw new RangeError(`'${value}' names no product type such as iPhone10,1`);
  return found;
}

/** "8388608", "8M", "8MiB", "2G" → bytes. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?$/i.exec(value.trim());
  if (!match) throw new RangeError(`'${value}' is not a size (e.g. 8M, 2G, 1048576)`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(match[1]) * unit);
}
