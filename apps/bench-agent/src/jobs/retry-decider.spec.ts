import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '@bench/bench-domain';
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

  it('tries once more after a hardware failure, and calls the phone bricked only when it repeats', () => {
    const input = { ...base, failureClass: 'device-hardware' as const, message: 'StatusMsg 53' };
    const first = decide(DEFAULT_RETRY_POLICY, { ...input, classFailures: 1 });
    expect(first).toMatchObject({ action: 'retry', delayMs: 5_000 });
    expect(first).not.toHaveProperty('ladder');
    expect(first.reason).toMatch(/trying again to confirm \(1\/1\) before calling the phone bricked/);
    const second = decide(DEFAULT_RETRY_POLICY, { ...input, classFailures: 2 });
    expect(second).toMatchObject({ action: 'stop', slotState: 'bricked' });
    expect(second.reason).toBe('StatusMsg 53 — the same failure 2 times: the phone needs repair');
  });

  it.each([
    ['signing-refused', { action: 'stop', slotState: 'attention' }],
    ['host-setup', { action: 'stop', slotState: 'attention' }],
    ['power', { action: 'hold', hold: 'waiting-power' }],
    ['cancelled', { action: 'stop', slotState: 'idle' }],
  ] as const)('%s → %p', (failureClass, expected) => {
    expect(decide(DEFAULT_RETRY_POLICY, { ...base, failureClass })).toMatchObject(expected);
  });
});

describe('decide (stop rules with maxAttempts)', () => {
  const policy = (rules: Partial<RetryPolicy['rules']>): RetryPolicy => ({
    ...DEFAULT_RETRY_POLICY,
    name: 'custom',
    rules: { ...DEFAULT_RETRY_POLICY.rules, ...rules },
  });

  it('stops at the first failure when maxAttempts is 1 (or absent)', () => {
    const single = policy({ 'device-hardware': { action: 'stop-bricked' } });
    expect(decide(single, { ...base, failureClass: 'device-hardware' })).toMatchObject({
      action: 'stop',
      slotState: 'bricked',
      reason: 'x — the phone needs repair',
    });
  });

  it('retries any class with doubling backoff, no ladder, then stops as the rule says', () => {
    // A shell loop around idevicerestore, as a policy: every failure retried, three tries, then "dead".
    const loop = policy({ stuck: { action: 'stop-bricked', maxAttempts: 3, backoffMs: 2_000 } });
    const input = { ...base, failureClass: 'stuck' as const, canPowerCycle: true };
    expect(decide(loop, { ...input, classFailures: 1 })).toEqual({
      action: 'retry',
      delayMs: 2_000,
      reason: 'x — trying again to confirm (1/2) before calling the phone bricked',
    });
    expect(decide(loop, { ...input, classFailures: 2 })).toMatchObject({ action: 'retry', delayMs: 4_000 });
    expect(decide(loop, { ...input, classFailures: 3 })).toMatchObject({
      action: 'stop',
      slotState: 'bricked',
    });
  });

  it('confirms an attention stop the same way', () => {
    const careful = policy({
      'signing-refused': { action: 'stop-attention', maxAttempts: 2, backoffMs: 1_000 },
    });
    const input = { ...base, failureClass: 'signing-refused' as const };
    expect(decide(careful, { ...input, classFailures: 1 })).toMatchObject({
      action: 'retry',
      delayMs: 1_000,
    });
    expect(decide(careful, { ...input, classFailures: 2 })).toEqual({
      action: 'stop',
      slotState: 'attention',
      reason: 'x',
    });
  });
});
