// USB hub class descriptor (USB 2.0 §11.23.2.1, USB 3.x §10.15.2.1): how a hub switches port power.

export type PowerSwitching = 'per-port' | 'ganged' | 'none';

export interface HubDescriptor {
  ports: number;
  powerSwitching: PowerSwitching;
  /** Over-current protection: per port, global, or none. */
  overCurrent: 'per-port' | 'global' | 'none';
  powerOnToPowerGoodMs: number;
}

/** GET_DESCRIPTOR(HUB): bmRequestType 0xA0, bRequest 6, wValue 0x29 (USB 2) or 0x2A (USB 3) << 8. */
export const HUB_DESCRIPTOR_REQUEST = {
  bmRequestType: 0xa0,
  bRequest: 0x06,
  usb2Type: 0x29,
  usb3Type: 0x2a,
} as const;

export function parseHubDescriptor(bytes: Uint8Array): HubDescriptor {
  if (bytes.length < 7) throw new RangeError(`hub descriptor too short (${bytes.length} bytes, need 7)`);
  if (bytes[1] !== 0x29 && bytes[1] !== 0x2a) {
    throw new RangeError(`not a hub descriptor (type 0x${bytes[1].toString(16)})`);
  }
  const characteristics = bytes[3] | (bytes[4] << 8);
  const lpsm = characteristics & 0b11;
  const ocpm = (characteristics >> 3) & 0b11;
  return {
    ports: bytes[2],
    powerSwitching: lpsm === 0 ? 'ganged' : lpsm === 1 ? 'per-port' : 'none',
    overCurrent: ocpm === 0 ? 'global' : ocpm === 1 ? 'per-port' : 'none',
    powerOnToPowerGoodMs: bytes[5] * 2,
  };
}
