import { isDatabaseUnavailable } from './errors';

describe('isDatabaseUnavailable', () => {
  it('recognizes Prisma codes that mean the database cannot be reached', () => {
    for (const code of ['P1001', 'P1008', 'P1017', 'P2024'])
      expect({ code, unavailable: isDatabaseUnavailable({ code }) }).toEqual({ code, unavailable: true });
  });

  it('recognizes a driver adapter cause, direct or in a Prisma error meta', () => {
    expect(isDatabaseUnavailable({ name: 'DriverAdapterError', cause: { kind: 'ConnectionClosed' } })).toBe(
      true,
    );
    expect(
      isDatabaseUnavailable({
        code: 'P9999',
        meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable', host: '127.0.0.1' } } },
      }),
    ).toBe(true);
  });

  it('leaves request errors alone (unique violation, not found, a plain error)', () => {
    expect(isDatabaseUnavailable({ code: 'P2002' })).toBe(false);
    expect(isDatabaseUnavailable({ code: 'P2025' })).toBe(false);
    expect(isDatabaseUnavailable(new Error("Can't reach database server"))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});
