import type { Command } from 'commander';
import { loadEnv } from '@bench/config';
import type { SeenDevice } from '@bench/restore-engine';
import { runAction } from '../run-action';

export function registerDevices(program: Command): void {
  program
    .command('devices')
    .description('Apple devices this host sees: DFU/recovery on the USB bus, normal/restore behind usbmuxd')
    .option(
      '--usbmuxd <address>',
      'usbmuxd address (UNIX:/path or HOST:PORT; default USBMUXD_SOCKET_ADDRESS or /var/run/usbmuxd)',
    )
    .option('--json', 'print JSON')
    .action((options: { usbmuxd?: string; json?: boolean }) =>
      runAction(async () => {
        // Loaded when used: every other verb starts without the USB stack.
        const { surveyDevices } = await import('@bench/restore-engine');
        const { createLibusbBus, UsbmuxClient } = await import('@bench/usb-transport');
        const env = loadEnv();
        const bus = createLibusbBus();
        try {
          const survey = await surveyDevices(
            bus,
            UsbmuxClient.forAddress(options.usbmuxd ?? env.usbmuxdSocketAddress),
          );
          if (options.json) {
            process.stdout.write(`${JSON.stringify(survey.devices)}\n`);
          } else {
            process.stdout.write(formatDevices(survey.devices));
          }
          if (survey.usbmuxError) process.stderr.write(`bench devices: usbmuxd: ${survey.usbmuxError}\n`);
          return 0;
        } finally {
          await bus.close();
        }
      }),
    );
}

function formatDevices(devices: SeenDevice[]): string {
  if (devices.length === 0) return 'no Apple device found\n';
  const rows = devices.map((d) => [
    d.portPath ?? '-',
    d.mode,
    d.ecid ?? '-',
    d.productType ?? (d.cpid ? `CPID 0x${d.cpid.toString(16)}` : '-'),
    d.speedMbps ? `${d.speedMbps} Mbit/s` : '-',
    d.error ?? '',
  ]);
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((r) => r[i].length), ['PORT', 'MODE', 'ECID', 'MODEL', 'SPEED', ''][i].length),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return `${[line(['PORT', 'MODE', 'ECID', 'MODEL', 'SPEED', '']), ...rows.map(line)].join('\n')}\n`;
}
