import { createBatchRequest, startTime } from './batch-request';

// 2026-12-07 15:30 local time: clock times are read in the machine's zone, as the shop means them.
const NOW = new Date(2026, 11, 7, 15, 30, 0);
const base = { name: 'Rack 3 overnight', firmware: 'latest', bench: ['rack-3'], slot: [] };

describe('createBatchRequest', () => {
  it('builds the API request: erase by default, benches and slots, policy, a start time', () => {
    expect(createBatchRequest({ ...base, slot: ['s1'], policy: 'overnight', at: '22:00' }, NOW)).toEqual({
      name: 'Rack 3 overnight',
      firmware: 'latest',
      behavior: 'erase',
      benchIds: ['rack-3'],
      slotIds: ['s1'],
      policy: 'overnight',
      startAt: new Date(2026, 11, 7, 22, 0, 0).toISOString(),
    });
    expect(createBatchRequest({ ...base, firmware: '22G100', update: true }, NOW)).toEqual({
      name: 'Rack 3 overnight',
      firmware: '22G100',
      behavior: 'update',
      benchIds: ['rack-3'],
    });
  });

  it('names the option that is wrong', () => {
    expect(createBatchRequest({ ...base, name: '  ' }, NOW)).toMatch(/^--name is required/);
    expect(createBatchRequest({ ...base, firmware: 'iOS 18' }, NOW)).toBe(
      `--firmware 'iOS 18': expected "latest" or a build number such as 22G100`,
    );
    expect(createBatchRequest({ ...base, bench: [] }, NOW)).toMatch(/^say which phones: --bench ID/);
    expect(createBatchRequest({ ...base, at: 'tonight' }, NOW)).toMatch(
      /^--at 'tonight': expected a clock time/,
    );
  });
});

describe('startTime', () => {
  it('takes the next such clock time: later today, or tomorrow once it has passed', () => {
    expect(startTime('22:00', NOW)).toEqual(new Date(2026, 11, 7, 22, 0, 0));
    expect(startTime('06:30', NOW)).toEqual(new Date(2026, 11, 8, 6, 30, 0));
    expect(startTime('15:30', NOW)).toEqual(new Date(2026, 11, 8, 15, 30, 0));
    expect(startTime('7:05', NOW)).toEqual(new Date(2026, 11, 8, 7, 5, 0));
  });

  it('takes an ISO 8601 time with its zone, and refuses one without or an impossible one', () => {
    expect(startTime('2026-12-07T22:00:00Z', NOW)).toEqual(new Date('2026-12-07T22:00:00Z'));
    expect(startTime('2026-12-07T22:00+01:00', NOW)).toEqual(new Date('2026-12-07T21:00:00Z'));
    expect(startTime('2026-12-07T22:00', NOW)).toMatch(
      /expected a clock time such as 22:00 or an ISO 8601 time/,
    );
    expect(startTime('24:00', NOW)).toMatch(/expected a clock time/);
    expect(startTime('2026-13-45T22:00:00Z', NOW)).toBe(`--at '2026-13-45T22:00:00Z': not a real time`);
  });
});
