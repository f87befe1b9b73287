import type { Command } from 'commander';
import { runAction } from '../run-action';

export function registerVerifyCertificate(program: Command): void {
  program
    .command('verify-certificate')
    .description("check a restore certificate: the shop's signature, and that no field was changed")
    .argument('<file>', 'the certificate (JSON, as GET /api/runs/:runId/certificate gives it)')
    .option(
      '--key <file>',
      "the shop's public key (PEM); default: this bench's own (var/keys/shop-ed25519.pub.pem, or BENCH_SHOP_KEY's)",
    )
    .addHelpText('after', '\nExit codes: 0 valid, 1 not valid (the line says why), 2 unreadable file or key.')
    .action((file: string, options: { key?: string }) =>
      runAction(async () =>
        (await import('./verify-certificate-command')).verifyCertificateCommand(file, options),
      ),
    );
}
