// Port status and port power on a USB hub through any UsbBus (the real one or the simulator's),
// the way uhubctl does it: open the hub by its port path, read its hub descriptor, then class
// requests per port. Per-port power switching is only possible on hubs that say so; ganged hubs
// switch every port at once (or ignore single-port requests), so they are refused.
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError, HostSetupError } from '@bench/bench-domain';
import type { UsbBus, UsbDeviceHandle, UsbDeviceInfo } from '../bus/usb-bus';
import { UsbTransportError } from '../bus/usb-errors';
import { parseHubDescriptor, type HubDescriptor } from '../host/hub-descriptor';
import {
  decodePortStatus,
  getPortStatusSetup,
  HUB_DESCRIPTOR_MAX_LENGTH,
  hubDescriptorSetup,
  PORT_STATUS_LENGTH,
  portPowerSetup,
  type PortStatus,
} from './hub-codec';

export const USB_HUB_CLASS = 0x09;

/** The hub cannot switch a single port's power (ganged or no switching): nothing to cycle. */
export class PortPowerSwitchingUnsupportedError extends HostSetupError {
  constructor(
    readonly hubPortPath: string,
    readonly powerSwitching: HubDescriptor['powerSwitching'],
  ) {
    super(
      `hub ${hubPortPath} has ${powerSwitching === 'ganged' ? 'ganged' : 'no'} power switching; ` +
        'it cannot switch one port (use a hub with per-port power switching, as uhubctl lists)',
      { detail: `powerSwitching=${powerSwitching}` },
    );
  }
}

export class HubNotFoundError extends HostSetupError {
  constructor(readonly hubPortPath: string) {
    super(`no USB hub at ${hubPortPath}`);
  }
}

/** The port path of port `port` of the hub at `hubPortPath` (`1-1` + 4 → `1-1.4`). */
export function childPortPath(hubPortPath: string, port: number): string {
  return `${hubPortPath}.${port}`;
}

/** Splits a port path into its hub and the port number on it (`1-1.4` → `1-1`, 4). */
export function parentHubOf(portPath: string): { hubPortPath: string; port: number } | undefined {
  const dot = portPath.lastIndexOf('.');
  if (dot === -1) return undefined;
  const port = Number(portPath.slice(dot + 1));
  return Number.isInteger(port) && port > 0 ? { hubPortPath: portPath.slice(0, dot), port } : undefined;
}

export interface HubPortControllerOptions {
  /** Waits between power off and on; `node:timers/promises` by default (tests and the simulator inject). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class HubPortController {
  private constructor(
    private readonly handle: UsbDeviceHandle,
    readonly descriptor: HubDescriptor,
    private readonly superSpeed: boolean,
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>,
  ) {}

  /** Opens the hub at `hubPortPath` on `bus` and reads its hub descriptor. */
  static async open(
    bus: UsbBus,
    hubPortPath: string,
    options: HubPortControllerOptions = {},
  ): Promise<HubPortController> {
    const info = (await bus.list()).find(
      (d: UsbDeviceInfo) => d.portPath === hubPortPath && d.deviceClass === USB_HUB_CLASS,
    );
    if (!info) throw new HubNotFoundError(hubPortPath);
    const handle = await bus.open(info);
    try {
      const superSpeed = info.speed === 'super' || info.speed === 'super-plus';
      const bytes = await handle.controlIn(hubDescriptorSetup(superSpeed), HUB_DESCRIPTOR_MAX_LENGTH);
      const descriptor = parseHubDescriptor(bytes);
      const wait = options.sleep ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }));
      return new HubPortController(handle, descriptor, superSpeed, wait);
    } catch (error) {
      await handle.close().catch(() => undefined);
      if (error instanceof BenchError) throw error;
      throw new UsbTransportError(
        'invalid',
        `hub ${hubPortPath}: ${(error as Error).message}`,
        {},
        { cause: error },
      );
    }
  }

  get hubPortPath(): string {
    return this.handle.device.portPath;
  }

  get ports(): number {
    return this.descriptor.ports;
  }

  /** Whether single ports can be switched (uhubctl's "ppps"). */
  get canSwitchPortPower(): boolean {
    return this.descriptor.powerSwitching === 'per-port';
  }

  portPath(port: number): string {
    this.checkPort(port);
    return childPortPath(this.hubPortPath, port);
  }

  async getPortStatus(port: number): Promise<PortStatus> {
    this.checkPort(port);
    const bytes = await this.handle.controlIn(getPortStatusSetup(port), PORT_STATUS_LENGTH);
    return decodePortStatus(bytes, this.superSpeed);
  }

  /** Switches one port's power. Refused (typed) on hubs without per-port switching. */
  async setPortPower(port: number, on: boolean): Promise<void> {
    this.checkPort(port);
    if (!this.canSwitchPortPower) {
      throw new PortPowerSwitchingUnsupportedError(this.hubPortPath, this.descriptor.powerSwitching);
    }
    await this.handle.controlOut(portPowerSetup(port, on));
  }

  /**
   * Off, wait `offMs`, on: what a technician does by re-plugging. The phone on the port detaches
   * and (if its battery holds it up) re-enumerates after power returns.
   */
  async powerCycle(port: number, offMs = 2_000, signal?: AbortSignal): Promise<void> {
    await this.setPortPower(port, false);
    try {
      await this.wait(offMs, signal);
    } finally {
      // Never leave a port dark because the wait was cancelled.
      await this.setPortPower(port, true);
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private checkPort(port: number): void {
    if (!Number.isInteger(port) || port < 1 || port > this.descriptor.ports) {
      throw new RangeError(`hub ${this.hubPortPath} has ports 1–${this.descriptor.ports}, not ${port}`);
    }
  }
}
