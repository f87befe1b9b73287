import { parseHubDescriptor } from '../host/hub-descriptor';
import {
  clearPortFeatureSetup,
  decodePortStatus,
  encodePortStatus,
  encodeUsb2HubDescriptor,
  getPortStatusSetup,
  hubDescriptorSetup,
  portPowerSetup,
  PortFeature,
} from './hub-codec';
import { childPortPath, parentHubOf } from './hub-port-controller';

describe('hub class requests (as uhubctl sends them)', () => {
  it('builds GET_STATUS, SET/CLEAR_FEATURE(PORT_POWER) and GET_DESCRIPTOR(hub)', () => {
    expect(getPortStatusSetup(4)).toEqual({ bmRequestType: 0xa3, bRequest: 0, wValue: 0, wIndex: 4 });
    expect(portPowerSetup(4, true)).toEqual({ bmRequestType: 0x23, bRequest: 3, wValue: 8, wIndex: 4 });
    expect(portPowerSetup(4, false)).toEqual({ bmRequestType: 0x23, bRequest: 1, wValue: 8, wIndex: 4 });
    expect(clearPortFeatureSetup(2, PortFeature.changeConnection)).toEqual({
      bmRequestType: 0x23,
      bRequest: 1,
      wValue: 16,
      wIndex: 2,
    });
    expect(hubDescriptorSetup(false)).toEqual({
      bmRequestType: 0xa0,
      bRequest: 6,
      wValue: 0x2900,
      wIndex: 0,
    });
    expect(hubDescriptorSetup(true).wValue).toBe(0x2a00);
  });
});

describe('decodePortStatus', () => {
  it('reads a USB 2 port with a high-speed device just connected (0x0503, change 0x0001)', () => {
    expect(decodePortStatus(Uint8Array.of(0x03, 0x05, 0x01, 0x00))).toEqual({
      connected: true,
      enabled: true,
      suspended: false,
      overCurrent: false,
      resetting: false,
      powered: true,
      speed: 'high',
      change: { connection: true, enable: false, overCurrent: false, reset: false },
    });
  });

  it('reads full speed (no speed bit), low speed (bit 9), an empty powered port and an over-current', () => {
    expect(decodePortStatus(Uint8Array.of(0x03, 0x01, 0, 0)).speed).toBe('full');
    expect(decodePortStatus(Uint8Array.of(0x03, 0x03, 0, 0)).speed).toBe('low');
    expect(decodePortStatus(Uint8Array.of(0x00, 0x01, 0, 0))).toMatchObject({
      connected: false,
      powered: true,
      speed: undefined,
    });
    expect(decodePortStatus(Uint8Array.of(0x08, 0x00, 0x08, 0x00))).toMatchObject({
      overCurrent: true,
      powered: false,
      change: { overCurrent: true },
    });
  });

  it('reads PORT_POWER at bit 9 on USB 3 hubs', () => {
    expect(decodePortStatus(Uint8Array.of(0x03, 0x02, 0, 0), true)).toMatchObject({
      powered: true,
      speed: 'super',
    });
    expect(decodePortStatus(Uint8Array.of(0x03, 0x01, 0, 0), true).powered).toBe(false);
    expect(() => decodePortStatus(Uint8Array.of(1, 2))).toThrow(RangeError);
  });

  it('round-trips what the simulator encodes', () => {
    const bytes = Uint8Array.of(0x03, 0x05, 0x01, 0x00);
    expect(encodePortStatus(decodePortStatus(bytes))).toEqual(Buffer.from(bytes));
    const overCurrent = Uint8Array.of(0x08, 0x00, 0x08, 0x00);
    expect(encodePortStatus(decodePortStatus(overCurrent))).toEqual(Buffer.from(overCurrent));
  });
});

describe('encodeUsb2HubDescriptor', () => {
  it('writes what parseHubDescriptor reads (7-port per-port hub, literal bytes)', () => {
    const bytes = encodeUsb2HubDescriptor({
      ports: 7,
      powerSwitching: 'per-port',
      overCurrent: 'per-port',
      powerOnToPowerGoodMs: 100,
    });
    expect(bytes).toEqual(Buffer.from([0x09, 0x29, 0x07, 0x09, 0x00, 0x32, 0x64, 0x00, 0xff]));
    expect(parseHubDescriptor(bytes)).toEqual({
      ports: 7,
      powerSwitching: 'per-port',
      overCurrent: 'per-port',
      powerOnToPowerGoodMs: 100,
    });
  });

  it('writes ganged hubs', () => {
    const bytes = encodeUsb2HubDescriptor({
      ports: 4,
      powerSwitching: 'ganged',
      overCurrent: 'global',
      powerOnToPowerGoodMs: 100,
    });
    expect(bytes).toEqual(Buffer.from([0x09, 0x29, 0x04, 0x00, 0x00, 0x32, 0x64, 0x00, 0xff]));
  });
});

describe('port paths', () => {
  it('joins and splits hub and port', () => {
    expect(childPortPath('1-1', 4)).toBe('1-1.4');
    expect(parentHubOf('1-1.4.2')).toEqual({ hubPortPath: '1-1.4', port: 2 });
    expect(parentHubOf('1-3')).toBeUndefined();
  });
});
