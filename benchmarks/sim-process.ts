// The benchmark's side of sim-host.ts: starts the simulated bench in its own process, adds
// phones through its control API, reads what it recorded, stops it.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { singleControllerTopology, type FirstContact, type SimUsbTopology } from '@bench/device-sim';

export interface SimHostOptions {
  speed: number;
  seed: number;
  /** Ports per USB 2.0 controller, one entry per controller (bus 1, 2, …). */
  controllers: number[];
  osSize: number;
  firmwareDir: string;
}

export interface SimHostReady {
  type: 'ready';
  controlUrl: string;
  usbmuxdSocketAddress: string;
  tssUrl: string;
  ipswPath: string;
  ports: string[];
}

export interface SimHostPhone {
  ecid: string;
  port: string | null;
  productType: string;
}

export interface ControllerUsage {
  busNumber: number;
  capacityBps: number;
  activeFlows: number;
  bytes: number;
}

export function topologyOf(controllers: number[]): SimUsbTopology {
  return {
    controllers: controllers.map((ports, index) => singleControllerTopology(ports, index + 1).controllers[0]),
  };
}

export class SimHost {
  private constructor(
    private readonly child: ChildProcess,
    readonly ready: SimHostReady,
  ) {}

  static async start(options: SimHostOptions): Promise<SimHost> {
    const child = fork(path.join(__dirname, 'sim-host.js'), [JSON.stringify(options)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<SimHostReady>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`sim-host exited with code ${code} before it was ready`)),
      );
      child.on('message', (message: SimHostReady) => {
        if (message.type === 'ready') resolve(message);
      });
    });
    child.removeAllListeners('exit');
    return new SimHost(child, ready);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Plugs a new phone into `port` in the given stage (restore mode by default). */
  addPhone(port: string, stage = 'restore-ramdisk'): Promise<SimHostPhone> {
    return this.call<SimHostPhone>('POST', '/phones', { port, stage });
  }

  contacts(): Promise<FirstContact[]> {
    return this.call<FirstContact[]>('GET', '/contacts');
  }

  controllers(): Promise<ControllerUsage[]> {
    return this.call<ControllerUsage[]>('GET', '/usb/controllers');
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(route, this.ready.controlUrl), {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const result = (await response.json()) as unknown;
    if (!response.ok)
      throw new Error(`${method} ${route}: HTTP ${response.status} ${JSON.stringify(result)}`);
    return result as T;
  }
}
