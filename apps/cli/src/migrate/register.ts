import type { Command } from 'commander';
import { runAction } from '../run-action';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (for deployments that run server and agent separately)')
    .action(() => runAction(async () => (await import('./migrate-command')).migrateCommand()));
}
