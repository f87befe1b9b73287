// Hub class requests for port status and port power (USB 2.0 §11.24, USB 3.2 §10.16), as
// uhubctl sends them. Pure: setups in, bytes in/out. The hub descriptor parser lives in
// host/hub-descriptor.ts; its encoder (for the simulator's hubs) is here.
import type { ControlSetup } from '../bus/usb-bus';
import type { HubDescriptor } from '../host/hub-descriptor';

export const HubRequest = {
  getStatus: 0,
  clearFeature: 1,
  setFeature: 3,
  getDescriptor: 6,
} as const;

/** bmRequestType: class, recipient "other" (a port) or the hub device itself. */
export const HubRequestType = {
  portIn: 0xa3,
  portOut: 0x23,
  hubIn: 0xa0,
  hubOut: 0x20,
} as const;

/** Port feature selectors. */
export const PortFeature = {
  connection: 0,
  enable: 1,
  suspend: 2,
  overCurrent: 3,
  reset: 4,
  power: 8,
  lowSpeed: 9,
  changeConnection: 16,
  changeEnable: 17,
  changeSuspend: 18,
  changeOverCurrent: 19,
  changeReset: 20,
} as const;

export function getPortStatusSetup(port: number): ControlSetup {
  return { bmRequestType: HubRequestType.portIn, bRequest: HubRequest.getStatus, wValue: 0, wIndex: port };
}

export function setPortFeatureSetup(port: number, feature: number): ControlSetup {
  return {
    bmRequestType: HubRequestType.portOut,
    bRequest: HubRequest.setFeature,
    wValue: feature,
    wIndex: port,
  };
}

export function clearPortFeatureSetup(port: number, feature: number): ControlSetup {
  return {
    bmRequestType: HubRequestType.portOut,
    bRequest: HubRequest.clearFeature,
    wValue: feature,
    wIndex: port,
  };
}

export function portPowerSetup(port: number, on: boolean): ControlSetup {
  return on ? setPortFeatureSetup(port, PortFeature.power) : clearPortFeatureSetup(port, PortFeature.power);
}

export function hubDescriptorSetup(superSpeed: boolean): ControlSetup {
  return {
    bmRequestType: HubRequestType.hubIn,
    bRequest: HubRequest.getDescriptor,
    wValue: (superSpeed ? 0x2a : 0x29) << 8,
    wIndex: 0,
  };
}

export const PORT_STATUS_LENGTH = 4;
export const HUB_DESCRIPTOR_MAX_LENGTH = 71;

export type PortLinkSpeed = 'low' | 'full' | 'high' | 'super';

export interface PortStatus {
  connected: boolean;
  enabled: boolean;
  suspended: boolean;
  overCurrent: boolean;
  resetting: boolean;
  powered: boolean;
  /** Speed of the attached device; undefined when nothing is connected. */
  speed?: PortLinkSpeed;
  change: {
    connection: boolean;
    enable: boolean;
    overCurrent: boolean;
    reset: boolean;
  };
}

// wPortStatus bits. USB 2 and USB 3 agree on 0–4, but USB 3 moved PORT_POWER to bit 9 and has
// no low/high-speed bits (its bits 10–12 are the link speed, 0 = 5 Gbit/s).
const CONNECTION = 1 << 0;
const ENABLE = 1 << 1;
const SUSPEND = 1 << 2;
const OVER_CURRENT = 1 << 3;
const RESET = 1 << 4;
const USB2_POWER = 1 << 8;
const USB2_LOW_SPEED = 1 << 9;
const USB2_HIGH_SPEED = 1 << 10;
const USB3_POWER = 1 << 9;
// wPortChange bits (both generations).
const C_CONNECTION = 1 << 0;
const C_ENABLE = 1 << 1;
const C_OVER_CURRENT = 1 << 3;
const C_RESET = 1 << 4;

export function decodePortStatus(bytes: Uint8Array, superSpeedHub = false): PortStatus {
  if (bytes.length < PORT_STATUS_LENGTH) {
    throw new RangeError(`port status needs ${PORT_STATUS_LENGTH} bytes, got ${bytes.length}`);
  }
  const status = bytes[0] | (bytes[1] << 8);
  const change = bytes[2] | (bytes[3] << 8);
  const connected = (status & CONNECTION) !== 0;
  let speed: PortLinkSpeed | undefined;
  if (connected) {
    if (superSpeedHub) speed = 'super';
    else if (status & USB2_LOW_SPEED) speed = 'low';
    else if (status & USB2_HIGH_SPEED) speed = 'high';
    else speed = 'full';
  }
  return {
    connected,
    enabled: (status & ENABLE) !== 0,
    suspended: !superSpeedHub && (status & SUSPEND) !== 0,
    overCurrent: (status & OVER_CURRENT) !== 0,
    resetting: (status & RESET) !== 0,
    powered: (status & (superSpeedHub ? USB3_POWER : USB2_POWER)) !== 0,
    speed,
    change: {
      connection: (change & C_CONNECTION) !== 0,
      enable: (change & C_ENABLE) !== 0,
      overCurrent: (change & C_OVER_CURRENT) !== 0,
      reset: (change & C_RESET) !== 0,
    },
  };
}

/** The hub side (simulator); USB 2 layout unless `superSpeedHub`. */
export function encodePortStatus(port: PortStatus, superSpeedHub = false): Buffer {
  let status = 0;
  if (port.connected) status |= CONNECTION;
  if (port.enabled) status |= ENABLE;
  if (port.suspended && !superSpeedHub) status |= SUSPEND;
  if (port.overCurrent) status |= OVER_CURRENT;
  if (port.resetting) status |= RESET;
  if (port.powered) status |= superSpeedHub ? USB3_POWER : USB2_POWER;
  if (port.connected && !superSpeedHub) {
    if (port.speed === 'low') status |= USB2_LOW_SPEED;
    if (port.speed === 'high') status |= USB2_HIGH_SPEED;
  }
  let change = 0;
  if (port.change.connection) change |= C_CONNECTION;
  if (port.change.enable) change |= C_ENABLE;
  if (port.change.overCurrent) change |= C_OVER_CURRENT;
  if (port.change.reset) change |= C_RESET;
  const out = Buffer.alloc(PORT_STATUS_LENGTH);
  out.writeUInt16LE(status, 0);
  out.writeUInt16LE(change, 2);
  return out;
}

/** A USB 2.0 hub descriptor (type 0x29) for the simulator's hubs; `parseHubDescriptor` reads it. */
export function encodeUsb2HubDescriptor(hub: HubDescriptor, hubControlCurrentMa = 100): Buffer {
  if (hub.ports < 1 || hub.ports > 15) throw new RangeError(`a hub has 1–15 ports, not ${hub.ports}`);
  const lpsm = hub.powerSwitching === 'ganged' ? 0 : hub.powerSwitching === 'per-port' ? 1 : 2;
  const ocpm = hub.overCurrent === 'global' ? 0 : hub.overCurrent === 'per-port' ? 1 : 2;
  const characteristics = lpsm | (ocpm << 3);
  // DeviceRemovable (one bit per port + bit 0 reserved) then the legacy PortPwrCtrlMask, both
  // ⌈(ports + 1) / 8⌉ bytes.
  const maskBytes = Math.ceil((hub.ports + 1) / 8);
  const out = Buffer.alloc(7 + 2 * maskBytes);
  out[0] = out.length;
  out[1] = 0x29;
  out[2] = hub.ports;
  out.writeUInt16LE(characteristics, 3);
  out[5] = Math.round(hub.powerOnToPowerGoodMs / 2);
  out[6] = hubControlCurrentMa;
  out.fill(0xff, 7 + maskBytes);
  return out;
}
