// Carries out faults: scripted rules and profile draws, matched to phones by ECID or slot.
import type { SimPhone } from '../phone/sim-phone';
import type { FaultRule } from './fault-script';
import {
  BENCH_LEVEL_FAULTS,
  type FaultCheckpoint,
  type PhoneFaults,
  type SimFault,
  type SimFaultKind,
} from './fault-types';

/** What the bench does for faults that act on the bench rather than inside a personality. */
export interface BenchActions {
  pullCable(phone: SimPhone, replugAfterMs?: number): void;
  killBattery(phone: SimPhone): void;
  overCurrent(phone: SimPhone): void;
  startFlakyCable(phone: SimPhone, dropsPerMinute: number): void;
  /** The label of the slot a port path belongs to, when configured. */
  labelOf(portPath: string): string | undefined;
}

export interface FaultLogEntry {
  ecid: string;
  fault: string;
  stage?: string;
  progress?: number;
}

interface LiveRule extends FaultRule {
  remaining: number;
  /** Injected by hand: strikes at the phone's next checkpoint, whatever its stage. */
  atNextCheckpoint?: boolean;
}

const PERSISTENT_KINDS: ReadonlySet<SimFaultKind> = new Set(['full-speed-link', 'unsigned-build']);

export class FaultEngine implements PhoneFaults {
  private readonly liveRules: LiveRule[];
  /** Every fault carried out, in order: the reproducibility record. */
  readonly log: FaultLogEntry[] = [];

  constructor(
    rules: FaultRule[],
    private readonly bench: BenchActions,
  ) {
    this.liveRules = rules.map((rule) => ({ ...rule, remaining: rule.times }));
  }

  /** The rules as planned (each phone's draws from a profile, scripted entries). */
  rules(): FaultRule[] {
    return this.liveRules.map(({ ecid, slot, at, fault, times }) => ({ ecid, slot, at, fault, times }));
  }

  addRules(rules: FaultRule[]): void {
    for (const rule of rules) this.liveRules.push({ ...rule, remaining: rule.times });
  }

  /** A fault injected now (control API): carried out at once when it acts on the bench. */
  injectNow(phone: SimPhone, fault: SimFault): void {
    if (BENCH_LEVEL_FAULTS.has(fault.kind)) {
      this.carryOut(phone, fault);
      return;
    }
    // Persistent conditions hold from now on; the others strike at the phone's next checkpoint.
    const persistent = PERSISTENT_KINDS.has(fault.kind);
    this.liveRules.push({
      ecid: phone.identity.ecid,
      fault,
      times: 1,
      remaining: 1,
      at: persistent ? undefined : { stage: 'prepare' },
      atNextCheckpoint: !persistent,
    });
  }

  check(phone: SimPhone, checkpoint: FaultCheckpoint): SimFault | undefined {
    for (const rule of this.liveRules) {
      if (rule.remaining <= 0 || !rule.at || !this.matchesPhone(rule, phone)) continue;
      if (!rule.atNextCheckpoint && !reached(rule.at, checkpoint)) continue;
      rule.remaining--;
      this.log.push({
        ecid: phone.identity.ecidHex,
        fault: describe(rule.fault),
        stage: checkpoint.stage,
        progress: checkpoint.progress,
      });
      phone.note('fault', {
        fault: describe(rule.fault),
        stage: checkpoint.stage,
        progress: checkpoint.progress,
      });
      if (BENCH_LEVEL_FAULTS.has(rule.fault.kind)) this.carryOut(phone, rule.fault);
      return rule.fault;
    }
    return undefined;
  }

  active(phone: SimPhone, kind: SimFaultKind): boolean {
    return this.liveRules.some(
      (rule) => !rule.at && rule.fault.kind === kind && this.matchesPhone(rule, phone),
    );
  }

  /** Faults that hold for the whole run and start with it (flaky cables). */
  startPersistent(phone: SimPhone): void {
    for (const rule of this.liveRules) {
      if (!rule.at && rule.fault.kind === 'flaky-cable' && this.matchesPhone(rule, phone)) {
        this.bench.startFlakyCable(phone, rule.fault.dropsPerMinute ?? 2);
      }
    }
  }

  private matchesPhone(rule: FaultRule, phone: SimPhone): boolean {
    if (rule.ecid !== undefined && rule.ecid !== phone.identity.ecid) return false;
    if (rule.slot !== undefined) {
      const port = phone.port;
      if (port === null) return false;
      if (rule.slot !== port && rule.slot !== this.bench.labelOf(port)) return false;
    }
    return true;
  }

  private carryOut(phone: SimPhone, fault: SimFault): void {
    switch (fault.kind) {
      case 'cable-pull':
        this.bench.pullCable(phone, fault.replugAfterMs);
        break;
      case 'battery-dies':
        this.bench.killBattery(phone);
        break;
      case 'over-current':
        this.bench.overCurrent(phone);
        break;
      case 'flaky-cable':
        this.bench.startFlakyCable(phone, fault.dropsPerMinute ?? 2);
        break;
      default:
        break;
    }
  }
}

export function describe(fault: SimFault): string {
  return fault.kind === 'status' ? `status:${fault.code}` : fault.kind;
}

function reached(at: { stage: string; progress?: number }, checkpoint: FaultCheckpoint): boolean {
  if (at.stage !== checkpoint.stage) return false;
  return at.progress === undefined || (checkpoint.progress ?? 0) >= at.progress;
}
