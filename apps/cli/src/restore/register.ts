import type { Command } from 'commander';
import { parseEcid } from '@bench/bench-domain';
import { loadEnv } from '@bench/config';
import { runAction } from '../run-action';
import type { RestoreCommandOptions } from './restore-command';

export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('restore one phone (by ECID) to an IPSW, a build, or the newest signed build')
    .option('--ecid <ecid>', 'the phone (16 hex digits, 0x-hex or decimal)')
    .option('--ipsw <path>', 'a local IPSW')
    .option('--build <build>', 'a build number, e.g. 22G100 (downloaded when needed)')
    .option('--latest', 'the newest build Apple signs for this model')
    .option('--erase', 'erase restore (the default)')
    .option('--update', 'update restore (keeps user data)')
    .option('--engine <engine>', 'native (bench) or idevicerestore', 'native')
    .option('--port <path>', 'only a phone on this USB port path')
    .option('--json', 'JSON lines instead of a progress bar')
    .option('--simulate', 'restore an in-process simulated phone')
    .option('--product <type>', 'simulated model (default iPhone10,1)')
    .option('--start-mode <mode>', 'simulated start: normal, recovery, dfu, restore', 'normal')
    .option('--fault <spec>', 'simulated fault: kind[@stage[:progress]], e.g. cable-pull@send-filesystem:40')
    .option('--speed <x>', 'simulation speed factor', '60')
    .option('--seed <s>', 'simulation seed', '1')
    .action((options: RestoreCommandOptions) =>
      runAction(async () => (await import('./restore-command')).restoreCommand(options)),
    );
  program
    .command('kick-out')
    .description('get a phone out of recovery (exit the recovery loop) or restore mode')
    .requiredOption('--ecid <ecid>', 'the phone')
    .action((options: { ecid: string }) =>
      runAction(async () => {
        const { kickOut } = await import('@bench/restore-engine');
        const { createLibusbBus, UsbmuxClient } = await import('@bench/usb-transport');
        const env = loadEnv();
        const bus = createLibusbBus();
        try {
          const result = await kickOut(
            { bus, usbmux: UsbmuxClient.forAddress(env.usbmuxdSocketAddress) },
            parseEcid(options.ecid),
          );
          process.stdout.write(
            result.action === 'none'
              ? `nothing to do: ${result.reason}\n`
              : `${result.action} (was in ${result.from} mode)\n`,
          );
          return 0;
        } finally {
          await bus.close();
        }
      }),
    );
}
