import type { Command } from 'commander';
import { runAction } from '../run-action';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("a batch's report from the database: every phone, who needs a human and why")
    .argument('<batch-id>', 'the batch (its id, as the API and dashboard show it)')
    .option('--format <format>', 'json, csv or html (a page that prints to PDF)', 'json')
    .option('--out <file>', 'write to this file instead of standard output')
    .addHelpText('after', '\nExit codes: 0 written, 1 no such batch, 2 bad arguments or configuration.')
    .action((batchId: string, options: { format: string; out?: string }) =>
      runAction(async () => (await import('./report-command')).reportCommand(batchId, options)),
    );
}
