// `bench restore`: one phone, like idevicerestore, with bench's engine (or idevicerestore itself
// as the engine). `--simulate` runs it against an in-process simulated phone.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BenchError, isOneOf, parseEcid, STAGES, type Ecid, type RestoreBehavior } from '@bench/bench-domain';
import { childEnvironment, loadEnv, type BenchEnv } from '@bench/config';
import { parseFaultName, SimBench, type FaultRule } from '@bench/device-sim';
import {
  CatalogClient,
  CatalogFirmwareStore,
  FirmwareDownloader,
  HttpTssClient,
  IpswArchive,
  LocalFirmwareStore,
  openFirmware,
  type FirmwareStore,
} from '@bench/firmware';
import {
  IdevicerestoreDriver,
  RestoreEngine,
  type FirmwareChoice,
  type RestoreDependencies,
  type RestoreEvent,
} from '@bench/restore-engine';
import { createLibusbBus, UsbmuxClient } from '@bench/usb-transport';
import { SimOptionError, positiveNumber, startStage } from '../sim/sim-options';
import { EXIT_CODES } from './exit-codes';
import { progressOutput } from './progress-output';

export interface RestoreCommandOptions {
  ecid?: string;
  ipsw?: string;
  build?: string;
  latest?: boolean;
  erase?: boolean;
  update?: boolean;
  engine?: string;
  port?: string;
  json?: boolean;
  simulate?: boolean;
  product?: string;
  startMode?: string;
  fault?: string;
  speed?: string;
  seed?: string;
}

export async function restoreCommand(options: RestoreCommandOptions): Promise<number> {
  let plan: Plan;
  try {
    plan = planOf(options);
  } catch (error) {
    if (error instanceof SimOptionError || error instanceof RangeError) {
      process.stderr.write(`bench restore: ${error.message}\n`);
      return EXIT_CODES.usage;
    }
    throw error;
  }
  const env = loadEnv();
  const output = progressOutput(options.json === true);
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const setup = plan.simulate ? await simulatedSetup(env, plan) : await realSetup(env, plan);
  try {
    const onEvent = (event: RestoreEvent) => output.event(event);
    if (plan.engine === 'idevicerestore') {
      const driver = new IdevicerestoreDriver({
        env: stringEnv(childEnvironment({ USBMUXD_SOCKET_ADDRESS: setup.usbmuxdAddress })),
      });
      await driver.run({
        ecid: setup.ecid,
        behavior: plan.behavior,
        firmware: setup.ipswPath ? { ipswPath: setup.ipswPath } : { latest: true },
        allowRestoreMode: setup.allowRestoreMode,
        apTicketPath: setup.apTicketPath,
        signal: controller.signal,
        onEvent,
      });
    } else {
      const result = await new RestoreEngine(setup.deps).restore({
        ecid: setup.ecid,
        portPath: plan.port,
        behavior: plan.behavior,
        firmware: setup.firmware,
        signal: controller.signal,
        onEvent,
      });
      output.finish();
      if (!options.json && process.stdout.isTTY) {
        process.stdout.write(`done: the phone runs iOS ${result.productVersion} (${result.buildVersion})\n`);
      }
    }
    output.finish();
    return EXIT_CODES.done;
  } catch (error) {
    output.finish();
    if (error instanceof BenchError) {
      if (!options.json) process.stderr.write(`bench restore: ${error.failureClass}: ${error.message}\n`);
      return EXIT_CODES[error.failureClass];
    }
    throw error;
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
    await setup.close();
  }
}

interface Plan {
  simulate: boolean;
  engine: 'native' | 'idevicerestore';
  behavior: RestoreBehavior;
  ecid?: Ecid;
  port?: string;
  ipsw?: string;
  build?: string;
  product: string;
  stage: ReturnType<typeof startStage>;
  faults: FaultRule[];
  speed: number;
  seed: number;
}

function planOf(options: RestoreCommandOptions): Plan {
  const engine = options.engine ?? 'native';
  if (engine !== 'native' && engine !== 'idevicerestore')
    throw new SimOptionError(`--engine must be native or idevicerestore, not '${engine}'`);
  if (options.erase && options.update) throw new SimOptionError('--erase and --update exclude each other');
  const simulate = options.simulate === true;
  const choices = [options.ipsw, options.build, options.latest].filter(
    (c) => c !== undefined && c !== false,
  ).length;
  if (!simulate) {
    if (!options.ecid) throw new SimOptionError('--ecid is required (or --simulate)');
    if (choices !== 1) throw new SimOptionError('give exactly one of --ipsw PATH, --build BUILD, --latest');
  }
  const stage = startStage(options.startMode);
  if (simulate && engine === 'idevicerestore' && stage !== 'restore-ramdisk') {
    throw new SimOptionError(
      "Debian's idevicerestore restores a simulated phone only from restore mode: add --start-mode restore",
    );
  }
  return {
    simulate,
    engine,
    behavior: options.update ? 'update' : 'erase',
    ecid: options.ecid ? parseEcid(options.ecid) : undefined,
    port: options.port,
    ipsw: options.ipsw,
    build: options.latest ? undefined : options.build,
    // iPhone 8: a model Debian's idevicerestore 1.0.0 knows, so both engines can run it.
    product: options.product ?? 'iPhone10,1',
    stage,
    faults: options.fault ? [faultRule(options.fault)] : [],
    speed: positiveNumber(options.speed, '--speed', 60),
    seed: Math.floor(positiveNumber(options.seed, '--seed', 1)),
  };
}

/** `--fault kind[@stage[:progress]]`, e.g. `cable-pull@send-filesystem:40`, `status:53@verify`, `unsigned-build`. */
function faultRule(spec: string): FaultRule {
  const [name, at] = spec.split('@');
  let fault;
  try {
    fault = parseFaultName(name);
  } catch (error) {
    throw new SimOptionError(`--fault: ${(error as Error).message}`);
  }
  if (!at) return { fault, times: 1 };
  const [stage, progress] = at.split(':');
  if (!isOneOf(STAGES, stage))
    throw new SimOptionError(`--fault: '${stage}' is not a stage (${STAGES.join(', ')})`);
  const percent = progress === undefined ? undefined : Number(progress);
  if (percent !== undefined && !(percent >= 0 && percent <= 100))
    throw new SimOptionError(`--fault: progress '${progress}' is not 0–100`);
  return { fault, times: 1, at: { stage, progress: percent } };
}

interface Setup {
  ecid: Ecid;
  deps: RestoreDependencies;
  firmware: FirmwareChoice;
  usbmuxdAddress?: string;
  ipswPath?: string;
  allowRestoreMode?: boolean;
  apTicketPath?: string;
  close(): Promise<void>;
}

async function realSetup(env: BenchEnv, plan: Plan): Promise<Setup> {
  const store: FirmwareStore = new CatalogFirmwareStore(
    new CatalogClient({ baseUrl: env.firmware.catalogUrl }),
    new FirmwareDownloader({ dir: env.firmware.dir, cacheLimitBytes: env.firmware.cacheLimitBytes }),
  );
  const bus = createLibusbBus();
  let firmware: FirmwareChoice = plan.build ? { build: plan.build } : { latest: true };
  if (plan.ipsw) firmware = { ipsw: await openLocalIpsw(plan.ipsw) };
  return {
    ecid: plan.ecid as Ecid,
    deps: {
      bus,
      usbmux: UsbmuxClient.forAddress(env.usbmuxdSocketAddress),
      tss: new HttpTssClient({ url: env.firmware.tssUrl }),
      firmware: store,
    },
    firmware,
    usbmuxdAddress: env.usbmuxdSocketAddress,
    ipswPath: plan.ipsw,
    close: async () => {
      if ('ipsw' in firmware) await firmware.ipsw.close();
      await bus.close();
    },
  };
}

async function simulatedSetup(env: BenchEnv, plan: Plan): Promise<Setup> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'bench-restore-sim-'));
  const idevicerestore = plan.engine === 'idevicerestore';
  const bench = new SimBench({
    speed: plan.speed,
    seed: plan.seed,
    firmwareDir: path.join(env.varDir, 'sim-firmware'),
    faults: plan.faults,
    restoreChecks: idevicerestore ? 'idevicerestore' : 'strict',
  });
  const endpoints = await bench.start({ tcp: { host: '127.0.0.1', port: 0 } });
  const phone = bench.addPhone({ productType: plan.product, stage: plan.stage });
  const ipsw = await bench.ipsw(undefined, { manifesto: true });
  const opened = await openLocalIpsw(ipsw.path);
  const ticket = path.join(scratch, 'ticket.der');
  writeFileSync(ticket, Buffer.alloc(0));
  const usbmux = UsbmuxClient.forAddress(endpoints.usbmuxd.socketAddress);
  return {
    ecid: parseEcid(phone.identity.ecid),
    deps: {
      bus: bench.bus,
      usbmux,
      tss: new HttpTssClient({ url: endpoints.tssUrl }),
      firmware: new LocalFirmwareStore([ipsw.path]),
    },
    firmware: { ipsw: opened },
    usbmuxdAddress: endpoints.usbmuxd.socketAddress,
    ipswPath: ipsw.path,
    allowRestoreMode: idevicerestore,
    apTicketPath: idevicerestore ? ticket : undefined,
    close: async () => {
      await opened.close();
      await bench.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

async function openLocalIpsw(file: string) {
  const archive = await IpswArchive.open(file);
  let manifest;
  try {
    manifest = await archive.readBuildManifest();
  } finally {
    await archive.close();
  }
  return openFirmware({
    productType: manifest.supportedProductTypes[0] ?? 'unknown',
    version: manifest.productVersion,
    build: manifest.productBuildVersion,
    path: file,
  });
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
