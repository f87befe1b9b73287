import { isPortPath, parseEcid, parsePortPath } from './ids';

describe('parseEcid', () => {
  it.each([
    ['0x1A2B3C4D5E6F70', '001A2B3C4D5E6F70'],
    ['001a2b3c4d5e6f70', '001A2B3C4D5E6F70'],
    ['4660', '0000000000001234'],
    [4660, '0000000000001234'],
    [0x1234n, '0000000000001234'],
  ])('%p → %s', (input, expected) => {
    expect(parseEcid(input)).toBe(expected);
  });

  it.each(['', 'xyz', '0x', '-1', '0x1FFFFFFFFFFFFFFFF'])('rejects %p', (input) => {
    expect(() => parseEcid(input)).toThrow(RangeError);
  });
});

describe('port paths', () => {
  it.each(['1-1', '1-1.4.2', '3-10.1'])('accepts %s', (p) => expect(isPortPath(p)).toBe(true));
  it.each(['', 'usb1', '1-0', '1-1..2', '1-1.4.2:1.0', 'a-1'])('rejects %p', (p) =>
    expect(isPortPath(p)).toBe(false),
  );
  it('explains what it expected', () => {
    expect(() => parsePortPath('usb1')).toThrow(
      "'usb1' is not a USB port path (expected BUS-PORT[.PORT…], e.g. 1-1.4.2)",
    );
  });
});
