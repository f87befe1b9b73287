// `bench sim`: a simulated bench on its own — phones on a simulated USB bus, a usbmuxd endpoint
// real libimobiledevice tools accept, a TSS server, synthetic IPSWs and the control API — for
// demos, training and tests. Runs until SIGINT/SIGTERM.
import path from 'node:path';
import { loadEnv } from '@bench/config';
import { SimBench, SimControlApi, topologyFor } from '@bench/device-sim';
import {
  faultOption,
  hostPortOption,
  positiveNumber,
  SimOptionError,
  startStage,
  usbmuxdListenOption,
} from './sim-options';
import { parseSize } from './ipsw-command';

export interface SimCommandOptions {
  phones?: string;
  usbmuxd?: string;
  control?: string;
  tssPort?: string;
  speed?: string;
  faults?: string;
  seed?: string;
  startMode?: string;
  product?: string;
  osSize?: string;
  firmwareDir?: string;
  idevicerestore?: boolean;
  json?: boolean;
}

export async function simCommand(
  options: SimCommandOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  let bench: SimBench;
  let control: SimControlApi;
  try {
    const env = loadEnv();
    const phones = Math.floor(positiveNumber(options.phones, '--phones', 3));
    const stage = startStage(options.startMode);
    bench = new SimBench({
      speed: positiveNumber(options.speed, '--speed', 1),
      seed: Math.floor(positiveNumber(options.seed, '--seed', 1)),
      topology: topologyFor(phones),
      firmwareDir: path.resolve(options.firmwareDir ?? path.join(env.varDir, 'sim-firmware')),
      osSize: options.osSize ? parseSize(options.osSize) : undefined,
      restoreChecks: options.idevicerestore ? 'idevicerestore' : 'strict',
      ...faultOption(options.faults),
    });
    control = new SimControlApi(bench);
    const endpoints = await bench.start(usbmuxdListenOption(options.usbmuxd), Number(options.tssPort ?? 0));
    for (let i = 0; i < phones; i++) bench.addPhone({ productType: options.product, stage });
    const controlAddress = hostPortOption(options.control, '--control');
    const controlUrl = await control.listen(controlAddress.port, controlAddress.host);
    const ipsw = await bench.ipsw(undefined, { manifesto: true });
    const summary = {
      usbmuxdSocketAddress: endpoints.usbmuxd.socketAddress,
      tssUrl: endpoints.tssUrl,
      controlUrl,
      ipsw: ipsw.path,
      phones: bench.phones.map((p) => ({ ...p.snapshot(), battery: undefined })),
    };
    if (options.json) {
      out.write(`${JSON.stringify(summary)}\n`);
    } else {
      out.write(
        [
          `simulated bench: ${phones} phone(s), speed ${bench.clock.speed}x, seed ${options.seed ?? 1}`,
          `usbmuxd: USBMUXD_SOCKET_ADDRESS=${summary.usbmuxdSocketAddress}`,
          `TSS:     ${summary.tssUrl}`,
          `control: ${controlUrl}/phones`,
          `IPSW:    ${summary.ipsw}`,
          '',
          ...summary.phones.map(
            (p) => `  ${p.port ?? '-'}  ${p.ecid}  ${p.udid}  ${p.productType}  ${p.mode}`,
          ),
          '',
        ].join('\n'),
      );
    }
  } catch (error) {
    if (error instanceof SimOptionError || error instanceof RangeError) {
      process.stderr.write(`bench sim: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await control.close();
  await bench.close();
  return 0;
}
