import type { Command } from 'commander';
import { runAction } from '../run-action';

export function registerFirmware(program: Command): void {
  const firmware = program
    .command('firmware')
    .description('IPSWs: inspect, list the catalog, download, verify');
  firmware
    .command('inspect <file>')
    .description('show the build identity bench would use, from an .ipsw or a BuildManifest.plist')
    .option('--product <productType>', 'only this product type, e.g. iPhone10,1')
    .option('--update', 'the update (keep data) identity instead of the erase one')
    .option('--json', 'print JSON')
    .action((file: string, options: { product?: string; update?: boolean; json?: boolean }) =>
      runAction(async () => (await import('./inspect-command')).inspectCommand(file, options)),
    );
  firmware
    .command('list')
    .description('builds in the firmware catalog (BENCH_CATALOG_URL) for a product, or its devices')
    .option('--product <productType>', 'e.g. iPhone10,1')
    .option('--json', 'print JSON')
    .action((options: { product?: string; json?: boolean }) =>
      runAction(async () => (await import('./list-command')).listCommand(options)),
    );
  firmware
    .command('fetch <product> <build>')
    .description('download and verify an IPSW into the firmware cache ("latest" = newest signed build)')
    .action((product: string, build: string) =>
      runAction(async () => (await import('./fetch-command')).fetchCommand(product, build)),
    );
  firmware
    .command('verify <ipsw>')
    .description('check an IPSW: optional file checksum, member CRCs, manifest and component paths')
    .option('--sha1 <hex>', 'expected SHA-1 of the file')
    .option('--sha256 <hex>', 'expected SHA-256 of the file')
    .action((file: string, options: { sha1?: string; sha256?: string }) =>
      runAction(async () => (await import('./verify-command')).verifyCommand(file, options)),
    );
}
