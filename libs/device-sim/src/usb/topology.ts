// The shape of a simulated bench's USB tree: host controllers (one bus each), hubs on them by
// port path, phones on hub ports.
import type { PowerSwitching } from '@bench/usb-transport';
import { USB2_CONTROLLER_BPS } from './bandwidth';

export interface SimHubSpec {
  /** Where the hub is plugged in: `1-1` (root port 1 of bus 1) or `1-1.4` (port 4 of hub 1-1). */
  path: string;
  ports: number;
  powerSwitching: PowerSwitching;
  vendorId?: number;
  productId?: number;
  product?: string;
}

export interface SimControllerSpec {
  busNumber: number;
  /** Shared by every port under the controller (USB 2.0: 480 Mbit/s). */
  capacityBps?: number;
  hubs: SimHubSpec[];
}

export interface SimUsbTopology {
  controllers: SimControllerSpec[];
}

/**
 * Two controllers: bus 1 with a 7-port industrial hub that switches each port's power
 * (Microchip USB2517-style), bus 2 with a cheap ganged 4-port hub (Genesys GL850G-style).
 */
export const DEFAULT_SIM_TOPOLOGY: SimUsbTopology = {
  controllers: [
    {
      busNumber: 1,
      hubs: [
        {
          path: '1-1',
          ports: 7,
          powerSwitching: 'per-port',
          vendorId: 0x0424,
          productId: 0x2517,
          product: 'USB2517 7-port hub',
        },
      ],
    },
    {
      busNumber: 2,
      hubs: [
        {
          path: '2-1',
          ports: 4,
          powerSwitching: 'ganged',
          vendorId: 0x05e3,
          productId: 0x0608,
          product: 'USB2.0 Hub',
        },
      ],
    },
  ],
};

/**
 * One controller with enough 7-port per-port-switching hubs for `ports` phones (1-1, 1-2, …):
 * how a 16-slot bench on a single USB 2.0 controller looks.
 */
export function singleControllerTopology(ports: number, busNumber = 1): SimUsbTopology {
  const hubs: SimHubSpec[] = [];
  for (let i = 0; i * 7 < ports; i++) {
    hubs.push({
      path: `${busNumber}-${i + 1}`,
      ports: Math.min(7, ports - i * 7),
      powerSwitching: 'per-port',
    });
  }
  return { controllers: [{ busNumber, capacityBps: USB2_CONTROLLER_BPS, hubs }] };
}
