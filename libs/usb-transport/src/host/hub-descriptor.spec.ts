import { parseHubDescriptor } from './hub-descriptor';

describe('parseHubDescriptor', () => {
  it('reads a USB 2.0 hub with per-port power switching (e.g. a 7-port industrial hub)', () => {
    // bLength 9, type 0x29, 7 ports, wHubCharacteristics 0x0009 (per-port power, per-port over-current), 50 ms, 100 mA, …
    const bytes = Uint8Array.from([0x09, 0x29, 0x07, 0x09, 0x00, 0x32, 0x64, 0x00, 0xff]);
    expect(parseHubDescriptor(bytes)).toEqual({
      ports: 7,
      powerSwitching: 'per-port',
      overCurrent: 'per-port',
      powerOnToPowerGoodMs: 100,
    });
  });

  it('reads a ganged hub', () => {
    const bytes = Uint8Array.from([0x09, 0x29, 0x04, 0x00, 0x00, 0x32, 0x64, 0x00, 0xff]);
    expect(parseHubDescriptor(bytes).powerSwitching).toBe('ganged');
    expect(parseHubDescriptor(bytes).overCurrent).toBe('global');
  });

  it('reads a USB 3 hub descriptor with no power switching', () => {
    const bytes = Uint8Array.from([0x0c, 0x2a, 0x04, 0x12, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    expect(parseHubDescriptor(bytes)).toMatchObject({
      ports: 4,
      powerSwitching: 'none',
      overCurrent: 'none',
    });
  });

  it('rejects truncated or foreign descriptors', () => {
    expect(() => parseHubDescriptor(Uint8Array.from([0x09, 0x29]))).toThrow(
      'hub descriptor too short (2 bytes, need 7)',
    );
    expect(() => parseHubDescriptor(Uint8Array.from([0x12, 0x01, 0, 2, 9, 0, 0, 64]))).toThrow(
      'not a hub descriptor (type 0x1)',
    );
  });
});
