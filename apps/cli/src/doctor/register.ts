import type { Command } from 'commander';
import { runAction } from '../run-action';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check this machine: Node, Redis, database, usbmuxd, USB permissions, disk, hubs')
    .option('--json', 'print the results as JSON')
    .action((options: { json?: boolean }) =>
      runAction(async () => (await import('./doctor-command')).doctorCommand(options)),
    );
}
