// Everything the agent talks to: the USB bus, usbmuxd, the signing server and the firmware
// store — the real ones, or (`bench start --simulate N`) a simulated bench in this process, or
// (BENCH_SIM_REMOTE) a simulated bench in another process reached through its control API.
import path from 'node:path';
import type { BenchEnv } from '@bench/config';
import {
  FAULT_PROFILES,
  fetchRemoteSimBench,
  loadFaultScript,
  RemoteSimUsbBus,
  SimBench,
  SimControlApi,
  topologyFor,
  type BootStage,
  type FaultRule,
} from '@bench/device-sim';
import {
  CatalogClient,
  CatalogFirmwareStore,
  FirmwareDownloader,
  HttpTssClient,
  LocalFirmwareStore,
  type FirmwareStore,
  type TssClient,
} from '@bench/firmware';
import type { Logger } from '@bench/logging';
import {
  createLibusbBus,
  HubPortController,
  parentHubOf,
  UsbmuxClient,
  type UsbBus,
} from '@bench/usb-transport';

export interface AgentIo {
  bus: UsbBus;
  usbmux: UsbmuxClient;
  tss: TssClient;
  firmware: FirmwareStore;
  /** Set in simulation: the bench behind the bus (its ports are the agent's ports) and its control API. */
  sim?: SimBench;
  simControlUrl?: string;
  /** In simulation (in this process or another): the simulated bench's ports, each a slot. */
  simulatedPorts?: string[];
  /** How many times faster the devices' clock runs than ours: the simulator's speed factor, 1 on real hardware. */
  timeScale: number;
  /** Whether the hub switches this port's power (per-port switching). */
  canPowerCycle(portPath: string): Promise<boolean>;
  powerCycle(portPath: string, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

const START_STAGES: Record<string, BootStage> = {
  normal: 'ios',
  recovery: 'iboot',
  dfu: 'secure-rom',
  restore: 'restore-ramdisk',
};

export async function createAgentIo(env: BenchEnv, logger: Logger): Promise<AgentIo> {
  if (env.simRemote) return remoteSimulatedIo(env.simRemote.controlUrl, logger);
  return env.simulate ? simulatedIo(env, env.simulate, logger) : realIo(env);
}

function hubOps(bus: UsbBus) {
  const canPowerCycle = async (portPath: string) => {
    const parent = parentHubOf(portPath);
    if (!parent) return false;
    try {
      const hub = await HubPortController.open(bus, parent.hubPortPath);
      try {
        return hub.canSwitchPortPower;
      } finally {
        await hub.close();
      }
    } catch {
      return false;
    }
  };
  const powerCycle = async (portPath: string, signal?: AbortSignal) => {
    const parent = parentHubOf(portPath);
    if (!parent) throw new Error(`${portPath} is not on a hub`);
    const hub = await HubPortController.open(bus, parent.hubPortPath);
    try {
      await hub.powerCycle(parent.port, 2_000, signal);
    } finally {
      await hub.close();
    }
  };
  return { canPowerCycle, powerCycle };
}

function realIo(env: BenchEnv): AgentIo {
  const bus = createLibusbBus();
  return {
    bus,
    usbmux: UsbmuxClient.forAddress(env.usbmuxdSocketAddress),
    tss: new HttpTssClient({ url: env.firmware.tssUrl }),
    firmware: new CatalogFirmwareStore(
      new CatalogClient({ baseUrl: env.firmware.catalogUrl }),
      new FirmwareDownloader({ dir: env.firmware.dir, cacheLimitBytes: env.firmware.cacheLimitBytes }),
    ),
    timeScale: 1,
    ...hubOps(bus),
    close: () => bus.close(),
  };
}

async function simulatedIo(
  env: BenchEnv,
  options: NonNullable<BenchEnv['simulate']>,
  logger: Logger,
): Promise<AgentIo> {
  let faults: FaultRule[] | undefined;
  let faultProfile: string | undefined;
  if (options.faults) {
    if (FAULT_PROFILES[options.faults]) faultProfile = options.faults;
    else faults = loadFaultScript(options.faults);
  }
  const sim = new SimBench({
    speed: options.speed,
    seed: options.seed,
    topology: topologyFor(options.phones, options),
    firmwareDir: path.join(env.varDir, 'sim-firmware'),
    osSize: options.osSize,
    faults,
    faultProfile,
  });
  const endpoints = await sim.start({ tcp: { host: '127.0.0.1', port: 0 } });
  const ipsw = await sim.ipsw();
  sim.addPhones(options.phones, { stage: START_STAGES[options.startMode] });
  const control = new SimControlApi(sim);
  const simControlUrl = await control.listen(0, '127.0.0.1');
  logger.info(
    `simulating ${options.phones} phone(s) at ${options.speed}x (seed ${options.seed}${options.faults ? `, faults ${options.faults}` : ''}); usbmuxd ${endpoints.usbmuxd.socketAddress}`,
  );
  return {
    bus: sim.bus,
    usbmux: UsbmuxClient.forAddress(endpoints.usbmuxd.socketAddress),
    tss: new HttpTssClient({ url: endpoints.tssUrl, attempts: 3, retryDelayMs: 200 }),
    firmware: new LocalFirmwareStore([ipsw.path]),
    sim,
    simControlUrl,
    simulatedPorts: sim.ports(),
    timeScale: options.speed,
    ...hubOps(sim.bus),
    close: async () => {
      await control.close();
      await sim.close();
    },
  };
}

/**
 * A simulated bench in another process (`BENCH_SIM_REMOTE`): the agent uses the same clients as
 * on real hardware (usbmuxd over TCP, HTTP TSS, a local IPSW) and a mirror of the simulated bus
 * for port paths. Phones must be in normal or restore mode: the mirror cannot open devices.
 */
async function remoteSimulatedIo(controlUrl: string, logger: Logger): Promise<AgentIo> {
  const info = await fetchRemoteSimBench(controlUrl);
  const bus = await RemoteSimUsbBus.connect(controlUrl);
  logger.info(
    `driving the simulated bench at ${controlUrl} (${info.ports.length} ports, ${info.speed}x); usbmuxd ${info.usbmuxdSocketAddress}`,
  );
  return {
    bus,
    usbmux: UsbmuxClient.forAddress(info.usbmuxdSocketAddress),
    tss: new HttpTssClient({ url: info.tssUrl }),
    firmware: new LocalFirmwareStore([info.ipswPath]),
    simControlUrl: controlUrl,
    simulatedPorts: info.ports,
    timeScale: info.speed,
    ...hubOps(bus),
    close: () => bus.close(),
  };
}
