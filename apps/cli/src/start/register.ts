import type { Command } from 'commander';
import { runAction } from '../run-action';
import type { StartOptions } from './start-command';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the server and the bench agent (and Redis, when none is configured)')
    .option('--demo', 'a simulated 12-phone bench at 60x with shop-floor faults (for demos and training)')
    .option('--simulate <phones>', 'the agent drives this many simulated phones instead of the USB bus')
    .option('--faults <file|profile>', 'simulated faults: a fault script or a profile such as shop-floor')
    .option('--seed <s>', 'simulation seed')
    .option('--speed <x>', 'simulation speed factor (1 = realistic)')
    .option('--start-mode <mode>', 'simulated phones start in normal, recovery, dfu or restore mode')
    .action((options: StartOptions) =>
      runAction(async () => (await import('./start-command')).startCommand(options)),
    );
}
