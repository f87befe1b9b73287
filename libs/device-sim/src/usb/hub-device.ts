// A simulated USB 2.0 hub as a class-9 device on the bus: it answers the hub class requests
// uhubctl and HubPortController send (hub descriptor, port status, PORT_POWER on/off, clearing
// change bits). The port state itself lives in the bus, which owns the phones.
import {
  encodePortStatus,
  encodeUsb2HubDescriptor,
  HubRequest,
  HubRequestType,
  PortFeature,
  type PortStatus,
  type PowerSwitching,
} from '@bench/usb-transport';
import { answerGetDescriptor, usbStall } from './usb-descriptors';
import type { SimControlSetup, SimDeviceDescriptor, SimUsbFunction } from './usb-function';

/** What the hub needs from the bus about its downstream ports. */
export interface HubPorts {
  readonly count: number;
  readonly powerSwitching: PowerSwitching;
  status(port: number): PortStatus;
  /** PORT_POWER set/clear as the hub's switching mode makes of it. */
  requestPower(port: number, on: boolean): void;
  clearChange(port: number, change: 'connection' | 'enable' | 'overCurrent' | 'reset'): void;
  /** PORT_RESET: the device on the port re-enumerates. */
  resetPort(port: number): void;
}

export interface SimHubIdentity {
  vendorId: number;
  productId: number;
  product: string;
}

const CHANGE_FEATURES: Record<number, 'connection' | 'enable' | 'overCurrent' | 'reset'> = {
  [PortFeature.changeConnection]: 'connection',
  [PortFeature.changeEnable]: 'enable',
  [PortFeature.changeOverCurrent]: 'overCurrent',
  [PortFeature.changeReset]: 'reset',
};

export class SimHubFunction implements SimUsbFunction {
  readonly descriptor: SimDeviceDescriptor;

  constructor(
    private readonly identity: SimHubIdentity,
    private readonly ports: HubPorts,
  ) {
    this.descriptor = {
      vendorId: identity.vendorId,
      productId: identity.productId,
      deviceClass: 0x09,
      bcdUSB: 0x0200,
      bcdDevice: 0x0100,
      maxPacketSize0: 64,
      manufacturerIndex: 0,
      productIndex: 1,
      serialNumberIndex: 0,
      maxPowerMa: 100,
      interfaces: [
        {
          number: 0,
          interfaceClass: 0x09,
          interfaceSubClass: 0,
          interfaceProtocol: 1,
          alternates: [{ alternate: 0, endpoints: [] }],
        },
      ],
    };
  }

  stringDescriptor(index: number): string | undefined {
    return index === 1 ? this.identity.product : undefined;
  }

  async control(setup: SimControlSetup): Promise<Uint8Array> {
    const { bmRequestType, bRequest, wValue, wIndex, wLength } = setup;
    if (
      bmRequestType === HubRequestType.hubIn &&
      bRequest === HubRequest.getDescriptor &&
      wValue >> 8 === 0x29
    ) {
      const bytes = encodeUsb2HubDescriptor({
        ports: this.ports.count,
        powerSwitching: this.ports.powerSwitching,
        overCurrent: this.ports.powerSwitching === 'per-port' ? 'per-port' : 'global',
        powerOnToPowerGoodMs: 100,
      });
      return bytes.subarray(0, wLength);
    }
    const standard = answerGetDescriptor(this, setup);
    if (standard) return standard;
    if (bmRequestType === HubRequestType.hubIn && bRequest === HubRequest.getStatus)
      return new Uint8Array(4).subarray(0, wLength);
    this.checkPort(wIndex);
    if (bmRequestType === HubRequestType.portIn && bRequest === HubRequest.getStatus) {
      return encodePortStatus(this.ports.status(wIndex)).subarray(0, wLength);
    }
    if (bmRequestType === HubRequestType.portOut && bRequest === HubRequest.setFeature) {
      if (wValue === PortFeature.power) this.ports.requestPower(wIndex, true);
      else if (wValue === PortFeature.reset) this.ports.resetPort(wIndex);
      else if (wValue !== PortFeature.suspend) throw usbStall(`SET_FEATURE ${wValue} on port ${wIndex}`);
      return new Uint8Array(0);
    }
    if (bmRequestType === HubRequestType.portOut && bRequest === HubRequest.clearFeature) {
      const change = CHANGE_FEATURES[wValue];
      if (wValue === PortFeature.power) this.ports.requestPower(wIndex, false);
      else if (change) this.ports.clearChange(wIndex, change);
      else if (wValue !== PortFeature.suspend && wValue !== PortFeature.enable) {
        throw usbStall(`CLEAR_FEATURE ${wValue} on port ${wIndex}`);
      }
      return new Uint8Array(0);
    }
    throw usbStall(`hub request 0x${bmRequestType.toString(16)}/${bRequest}`);
  }

  async bulkOut(endpoint: number): Promise<void> {
    throw usbStall(`bulk OUT 0x${endpoint.toString(16)} on a hub`);
  }

  async bulkIn(endpoint: number): Promise<Uint8Array> {
    throw usbStall(`bulk IN 0x${endpoint.toString(16)} on a hub`);
  }

  setConfiguration(value: number): void {
    if (value !== 1) throw usbStall(`SET_CONFIGURATION ${value}`);
  }

  setInterface(iface: number, alternate: number): void {
    if (iface !== 0 || alternate !== 0) throw usbStall(`SET_INTERFACE ${iface}/${alternate}`);
  }

  reset(): void {
    // A hub reset re-enumerates nothing downstream in this model.
  }

  dispose(): void {
    // Hubs never leave the simulated bus.
  }

  private checkPort(port: number): void {
    if (!Number.isInteger(port) || port < 1 || port > this.ports.count) throw usbStall(`no port ${port}`);
  }
}
