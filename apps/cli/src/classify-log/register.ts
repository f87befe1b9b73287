import type { Command } from 'commander';
import { runAction } from '../run-action';

export function registerClassifyLog(program: Command): void {
  program
    .command('classify-log')
    .description('tell the stage and failure class an idevicerestore log shows (FILE, or - for stdin)')
    .argument('<file>', 'a saved idevicerestore output, or - to read standard input')
    .option('--json', 'print the verdict as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 classified (a success or a failure), 1 not idevicerestore output, 2 unreadable input.',
    )
    .action((file: string, options: { json?: boolean }) =>
      runAction(async () => (await import('./classify-log-command')).classifyLogCommand(file, options)),
    );
}
