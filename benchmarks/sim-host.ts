// A simulated bench in its own process, for benchmarks that must not count the simulator's CPU
// as the measured process's: phones, bus, usbmuxd, TSS and the control API (which the measured
// process reaches through RemoteSimUsbBus or BENCH_SIM_REMOTE). Started with fork(); the
// options come as one JSON argument, the endpoints go back over IPC. Phones are added through
// the control API (POST /phones), so the benchmark decides when each one is plugged.
import { SimBench, SimControlApi } from '@bench/device-sim';
import { topologyOf, type SimHostOptions, type SimHostReady } from './sim-process';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SimHostOptions;
  const bench = new SimBench({
    speed: options.speed,
    seed: options.seed,
    topology: topologyOf(options.controllers),
    firmwareDir: options.firmwareDir,
    osSize: options.osSize,
  });
  const endpoints = await bench.start({ tcp: { host: '127.0.0.1', port: 0 } });
  const control = new SimControlApi(bench);
  const controlUrl = await control.listen(0, '127.0.0.1');
  const ipsw = await bench.ipsw();
  const ready: SimHostReady = {
    type: 'ready',
    controlUrl,
    usbmuxdSocketAddress: endpoints.usbmuxd.socketAddress,
    tssUrl: endpoints.tssUrl,
    ipswPath: ipsw.path,
    ports: bench.ports(),
  };
  process.send?.(ready);
  const stop = async () => {
    await control.close();
    await bench.close();
    process.exit(0);
  };
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main().catch((error: unknown) => {
  process.stderr.write(`sim-host: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
