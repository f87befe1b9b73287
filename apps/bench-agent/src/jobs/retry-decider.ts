// What happens after a failed attempt (design §6), from the failure class and the slot's named
// retry policy: retry with backoff, hold without burning an attempt, climb the escalation
// ladder (kick out of recovery/restore → power-cycle the port → ask a human for DFU), or stop.
import type { ClassRule, FailureClass, RetryPolicy, SlotState } from '@bench/bench-domain';

export type LadderStep = 'kick-out' | 'power-cycle';

export type Decision =
  | { action: 'retry'; delayMs: number; reason: string; ladder?: LadderStep }
  | { action: 'hold'; hold: 'waiting-power'; recheckMs: number; reason: string }
  | {
      action: 'stop';
      slotState: Extract<SlotState, 'bricked' | 'attention' | 'stuck' | 'idle'>;
      reason: string;
    };

export interface DecisionInput {
  failureClass: FailureClass;
  message: string;
  /** Failures of this class in this run so far, this one included. */
  classFailures: number;
  /** Ladder steps already taken in this run. */
  ladderTaken: LadderStep[];
  /** Whether the slot's hub can switch this port's power. */
  canPowerCycle: boolean;
  /** How to put this model in DFU (for the technician). */
  dfuButtons?: string;
}

const LADDER_CLASSES: ReadonlySet<FailureClass> = new Set(['transient-usb', 'stuck', 'unknown']);
const POWER_RECHECK_MS = 60_000;

export function decide(policy: RetryPolicy, input: DecisionInput): Decision {
  const rule = policy.rules[input.failureClass];
  switch (rule.action) {
    case 'wait-power':
      return {
        action: 'hold',
        hold: 'waiting-power',
        recheckMs: POWER_RECHECK_MS,
        reason: `${input.message} — waiting for the phone to charge`,
      };
    case 'stop-bricked':
      return (
        confirmFirst(rule, input, 'calling the phone bricked') ?? {
          action: 'stop',
          slotState: 'bricked',
          reason: `${input.message} — ${repeated(input)}the phone needs repair`,
        }
      );
    case 'stop-attention':
      return (
        confirmFirst(rule, input, 'asking for a human') ?? {
          action: 'stop',
          slotState: 'attention',
          reason: input.message,
        }
      );
    case 'none':
      return { action: 'stop', slotState: 'idle', reason: input.message };
    case 'retry':
      break;
  }
  const maxAttempts = rule.maxAttempts ?? 2;
  if (input.classFailures < maxAttempts) {
    const base = rule.backoffMs ?? 5_000;
    return {
      action: 'retry',
      delayMs: base * 2 ** (input.classFailures - 1),
      reason: `${input.message} — retrying (${input.classFailures}/${maxAttempts - 1})`,
    };
  }
  if (LADDER_CLASSES.has(input.failureClass)) {
    if (!input.ladderTaken.includes('kick-out')) {
      return {
        action: 'retry',
        delayMs: rule.backoffMs ?? 5_000,
        ladder: 'kick-out',
        reason: `${input.message} — kicking the phone out of where it is stuck, then retrying`,
      };
    }
    if (input.canPowerCycle && !input.ladderTaken.includes('power-cycle')) {
      return {
        action: 'retry',
        delayMs: rule.backoffMs ?? 5_000,
        ladder: 'power-cycle',
        reason: `${input.message} — power-cycling the port, then retrying`,
      };
    }
  }
  const dfu = input.dfuButtons
    ? ` Put the phone in DFU mode: ${input.dfuButtons}`
    : ' Put the phone in DFU mode.';
  if (input.failureClass === 'stuck')
    return { action: 'stop', slotState: 'stuck', reason: `${input.message}.${dfu}` };
  if (input.failureClass === 'transient-usb') {
    return {
      action: 'stop',
      slotState: 'attention',
      reason: `${input.message}. Check the cable and port, re-plug the phone or try another slot.`,
    };
  }
  return {
    action: 'stop',
    slotState: 'attention',
    reason: `${input.message}.${LADDER_CLASSES.has(input.failureClass) ? dfu : ''}`,
  };
}

/**
 * A stop whose rule asks for confirmation (`maxAttempts` above 1): retry until the failure has
 * repeated that often. A healthy phone that hit one bad moment is restored instead of sent away.
 */
function confirmFirst(rule: ClassRule, input: DecisionInput, verdict: string): Decision | undefined {
  const maxAttempts = rule.maxAttempts ?? 1;
  if (input.classFailures >= maxAttempts) return undefined;
  return {
    action: 'retry',
    delayMs: (rule.backoffMs ?? 5_000) * 2 ** (input.classFailures - 1),
    reason: `${input.message} — trying again to confirm (${input.classFailures}/${maxAttempts - 1}) before ${verdict}`,
  };
}

function repeated(input: DecisionInput): string {
  return input.classFailures > 1 ? `the same failure ${input.classFailures} times: ` : '';
}
