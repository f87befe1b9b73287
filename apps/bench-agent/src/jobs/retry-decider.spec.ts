import { DEFAULT_RETRY_POLICY } from '@bench/bench-domain';
import { decide, type DecisionInput } from './retry-decider';

const base: Omit<DecisionInput, 'failureClass'> = {
  message: 'x',
  classFailures: 1,
  ladderTaken: [],
  canPowerCycle: false,
};

describe('decide (default policy)', () => {
  it('retries transient USB failures with growing backoff, then climbs the ladder, then asks for attention', () => {
    const input = { ...base, failureClass: 'transient-usb' as const };
    expect(decide(DEFAULT_RETRY_POLICY, { ...input, classFailures: 1 })).toMatchObject({
      action: 'retry',
      delayMs: 5_000,
    });
    expect(decide(DEFAULT_RETRY_POLICY, { ...input, classFailures: 2 })).toMatchObject({
      action: 'retry',
      delayMs: 10_000,
    });
    expect(decide(DEFAULT_RETRY_POLICY, { ...input, classFailures: 3 })).toMatchObject({
      action: 'retry',
      ladder: 'kick-out',
    });
    expect(
      decide(DEFAULT_RETRY_POLICY, {
        ...input,
        classFailures: 4,
        ladderTaken: ['kick-out'],
        canPowerCycle: true,
      }),
    ).toMatchObject({
      action: 'retry',
      ladder: 'power-cycle',
    });
    expect(
      decide(DEFAULT_RETRY_POLICY, {
        ...input,
        classFailures: 5,
        ladderTaken: ['kick-out', 'power-cycle'],
        canPowerCycle: true,
      }),
    ).toMatchObject({
      action: 'stop',
      slotState: 'attention',
    });
  });

  it('ends a phone that stays stuck as stuck, with its DFU buttons', () => {
    const decision = decide(DEFAULT_RETRY_POLICY, {
      ...base,
      failureClass: 'stuck',
      classFailures: 2,
      ladderTaken: ['kick-out'],
      dfuButtons: 'Hold Side + Volume Down',
    });
    expect(decision).toMatchObject({ action: 'stop', slotState: 'stuck' });
    expect(decision.reason).toContain('Hold Side + Volume Down');
  });

  it.each([
    ['device-hardware', { action: 'stop', slotState: 'bricked' }],
    ['signing-refused', { action: 'stop', slotState: 'attention' }],
    ['host-setup', { action: 'stop', slotState: 'attention' }],
    ['power', { action: 'hold', hold: 'waiting-power' }],
    ['cancelled', { action: 'stop', slotState: 'idle' }],
  ] as const)('%s → %p', (failureClass, expected) => {
    expect(decide(DEFAULT_RETRY_POLICY, { ...base, failureClass })).toMatchObject(expected);
  });
});
