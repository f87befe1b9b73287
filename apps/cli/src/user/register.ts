import type { Command } from 'commander';
import { runAction } from '../run-action';

export function registerUser(program: Command): void {
  const user = program.command('user').description('dashboard and API accounts (technician, manager, admin)');
  user
    .command('add')
    .description('create an account (the first admin is made this way)')
    .requiredOption('--username <name>', 'login name')
    .requiredOption('--role <role>', 'technician, manager or admin')
    .option('--password <password>', 'the password (else one is generated and printed)')
    .option('--password-stdin', 'read the password from standard input')
    .action((options: { username: string; role: string; password?: string; passwordStdin?: boolean }) =>
      runAction(async () => (await import('./user-command')).userAddCommand(options)),
    );
  user
    .command('set-password')
    .description("set (or reset) an account's password and re-enable it")
    .requiredOption('--username <name>', 'login name')
    .option('--password <password>', 'the password (else one is generated and printed)')
    .option('--password-stdin', 'read the password from standard input')
    .action((options: { username: string; password?: string; passwordStdin?: boolean }) =>
      runAction(async () => (await import('./user-command')).userSetPasswordCommand(options)),
    );
  user
    .command('list')
    .description('list accounts')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) =>
      runAction(async () => (await import('./user-command')).userListCommand(options)),
    );
}
