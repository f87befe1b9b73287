// A simulated bench plus the restore engine wired to it, for the engine's integration tests.
import { parseEcid, type Ecid, type RestoreBehavior } from '@bench/bench-domain';
import { SimBench, type SimBenchOptions, type SimPhone } from '@bench/device-sim';
import { HttpTssClient, LocalFirmwareStore, openFirmware } from '@bench/firmware';
import { RestoreEngine, type RestoreEvent, type RestoreRequest } from '@bench/restore-engine';
import { tempDir } from '@bench/testing';
import { UsbmuxClient } from '@bench/usb-transport';

export interface EngineHarness {
  bench: SimBench;
  engine: RestoreEngine;
  usbmux: UsbmuxClient;
  ipswPath: string;
  restore(
    phone: SimPhone,
    options?: Partial<RestoreRequest> & { behavior?: RestoreBehavior },
  ): Promise<{
    events: RestoreEvent[];
    result?: Awaited<ReturnType<RestoreEngine['restore']>>;
    error?: unknown;
  }>;
  close(): Promise<void>;
}

export async function engineHarness(options: Partial<SimBenchOptions> = {}): Promise<EngineHarness> {
  const { dir, remove } = tempDir('bench-engine-');
  const bench = new SimBench({ speed: 200, seed: 3, firmwareDir: dir, ...options });
  const endpoints = await bench.start();
  const ipsw = await bench.ipsw();
  const usbmux = UsbmuxClient.forAddress(endpoints.usbmuxd.socketAddress);
  const tss = new HttpTssClient({ url: endpoints.tssUrl, attempts: 2, retryDelayMs: 50 });
  const firmware = new LocalFirmwareStore([ipsw.path]);
  const engine = new RestoreEngine({ bus: bench.bus, usbmux, tss, firmware });
  return {
    bench,
    engine,
    usbmux,
    ipswPath: ipsw.path,
    async restore(phone, request = {}) {
      const events: RestoreEvent[] = [];
      const opened = await openFirmware(
        await firmware.resolve(phone.identity.model.productType, ipsw.buildVersion),
      );
      try {
        const { onEvent, ...rest } = request;
        const result = await engine.restore({
          ecid: parseEcid(phone.identity.ecid) as Ecid,
          portPath: bench.portOf(phone),
          behavior: 'erase',
          firmware: { ipsw: opened },
          ...rest,
          onEvent: (event) => {
            events.push(event);
            onEvent?.(event);
          },
        });
        return { events, result };
      } catch (error) {
        return { events, error };
      }
    },
    async close() {
      await bench.close();
      remove();
    },
  };
}
