import { ecidOfUdid } from './mux-probe';

describe('ecidOfUdid', () => {
  it('reads the ECID of a modern CPID-ECID UDID, and nothing from an old 40-digit one', () => {
    expect(ecidOfUdid('00008030-001A2B3C4D5E6F70')).toBe(ecidOfUdid('00008030-001a2b3c4d5e6f70'));
    expect(ecidOfUdid('00008030-001A2B3C4D5E6F70')).toMatch(/1A2B3C4D5E6F70/i);
    expect(ecidOfUdid('0123456789abcdef0123456789abcdef01234567')).toBeUndefined();
  });
});
