import { createPhone } from '../phone/phone-factory';
import { SeededRandom } from '../time/random';
import { SimClock } from '../time/sim-clock';
import { FaultEngine, type BenchActions } from './fault-engine';
import { drawProfileFaults, EVERY_ATTEMPT } from './fault-profiles';
import { FaultScriptError, parseFaultScript } from './fault-script';

function bench(): BenchActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    pullCable: (p, after) => calls.push(`pull ${p.identity.ecidHex} ${after ?? '-'}`),
    killBattery: (p) => calls.push(`battery ${p.identity.ecidHex}`),
    overCurrent: (p) => calls.push(`over-current ${p.identity.ecidHex}`),
    startFlakyCable: (p, n) => calls.push(`flaky ${p.identity.ecidHex} ${n}`),
    labelOf: (port) => (port === '1-1.3' ? 'A3' : undefined),
  };
}

describe('fault scripts', () => {
  it('parses slot and ECID entries with stages, progress and parameters', () => {
    const rules = parseFaultScript(`
faults:
  - { ecid: "0x1A2B", at: { stage: send-filesystem, progress: 40 }, fault: cable-pull, replugAfterMs: 5000 }
  - { slot: A3, fault: full-speed-link }
  - { slot: "1-1.5", at: { stage: verify }, fault: "status:53" }
`);
    expect(rules).toEqual([
      {
        ecid: 0x1a2bn,
        slot: undefined,
        at: { stage: 'send-filesystem', progress: 40 },
        fault: { kind: 'cable-pull', replugAfterMs: 5000 },
        times: 1,
      },
      { ecid: undefined, slot: 'A3', at: undefined, fault: { kind: 'full-speed-link' }, times: 1 },
      {
        ecid: undefined,
        slot: '1-1.5',
        at: { stage: 'verify' },
        fault: { kind: 'status', code: 53 },
        times: 1,
      },
    ]);
  });

  it.each([
    ['faults:\n  - { slot: A1, fault: explode }\n', /faults\.0\.fault: expected one of cable-pull/],
    ['faults:\n  - { fault: hang }\n', /each fault needs a slot/],
    ['faults:\n  - { slot: A1, fault: hang, at: { stage: teleport } }\n', /faults\.0\.at\.stage/],
    ['faults: [\n', /invalid YAML\/JSON/],
    ['faults:\n  - { ecid: "zz", slot: A1, fault: hang }\n', /ecid: 'zz' is not a number/],
  ])('rejects %p with a clear message', (text, message) => {
    expect(() => parseFaultScript(text)).toThrow(FaultScriptError);
    expect(() => parseFaultScript(text)).toThrow(message);
  });
});

describe('FaultEngine', () => {
  const clock = new SimClock(1000);
  const random = new SeededRandom(7);

  it('fires a rule once when its stage and progress are reached, and carries out bench-level faults', () => {
    const phone = createPhone({ productType: 'iPhone10,1' }, clock, random);
    phone.plug('1-1.3');
    const actions = bench();
    const engine = new FaultEngine(
      parseFaultScript(
        `faults:\n  - { slot: A3, at: { stage: send-filesystem, progress: 40 }, fault: cable-pull, replugAfterMs: 100 }\n`,
      ),
      actions,
    );
    expect(engine.check(phone, { stage: 'send-filesystem', progress: 10 })).toBeUndefined();
    expect(engine.check(phone, { stage: 'verify', progress: 50 })).toBeUndefined();
    expect(engine.check(phone, { stage: 'send-filesystem', progress: 41 })).toEqual({
      kind: 'cable-pull',
      replugAfterMs: 100,
    });
    expect(engine.check(phone, { stage: 'send-filesystem', progress: 80 })).toBeUndefined();
    expect(actions.calls).toEqual([`pull ${phone.identity.ecidHex} 100`]);
    expect(engine.log).toEqual([
      { ecid: phone.identity.ecidHex, fault: 'cable-pull', stage: 'send-filesystem', progress: 41 },
    ]);
  });

  it('leaves personality faults to the personality and reports persistent conditions', () => {
    const phone = createPhone({ productType: 'iPhone10,1' }, clock, random);
    phone.plug('1-1.4');
    const actions = bench();
    const engine = new FaultEngine(
      parseFaultScript(
        `faults:\n  - { slot: "1-1.4", at: { stage: verify }, fault: "status:6" }\n  - { slot: "1-1.4", fault: full-speed-link }\n`,
      ),
      actions,
    );
    expect(engine.active(phone, 'full-speed-link')).toBe(true);
    expect(engine.active(phone, 'unsigned-build')).toBe(false);
    expect(engine.check(phone, { stage: 'verify' })).toEqual({ kind: 'status', code: 6 });
    expect(actions.calls).toEqual([]);
  });

  it('injects a fault that strikes at the next checkpoint', () => {
    const phone = createPhone({ productType: 'iPhone9,1' }, clock, random);
    phone.plug('1-1.1');
    const engine = new FaultEngine([], bench());
    engine.injectNow(phone, { kind: 'hang' });
    expect(engine.check(phone, { stage: 'send-ibec', progress: 3 })).toEqual({ kind: 'hang' });
  });

  it('gives the broken phones of shop-floor-broken a hardware status at every attempt', () => {
    const r = new SeededRandom(3);
    const rules = Array.from({ length: 1000 }, (_, i) =>
      drawProfileFaults('shop-floor-broken', BigInt(i + 1), r),
    ).flat();
    const broken = rules.filter((rule) => rule.times === EVERY_ATTEMPT);
    expect(broken.length).toBeGreaterThan(2);
    expect(broken.length).toBeLessThan(25);
    for (const rule of broken) {
      expect(rule.fault.kind).toBe('status');
      expect(rule.at).toEqual({ stage: 'verify', progress: 50 });
    }
    // The one-off hardware statuses of shop-floor stay one-off.
    expect(rules.filter((rule) => rule.fault.kind === 'status' && rule.times === 1).length).toBeGreaterThan(
      10,
    );

    const phone = createPhone({ productType: 'iPhone10,1' }, clock, random);
    phone.plug('1-1.2');
    const engine = new FaultEngine(
      [
        {
          ecid: phone.identity.ecid,
          fault: { kind: 'status', code: 53 },
          at: { stage: 'verify', progress: 50 },
          times: EVERY_ATTEMPT,
        },
      ],
      bench(),
    );
    for (let attempt = 0; attempt < 5; attempt++)
      expect(engine.check(phone, { stage: 'verify', progress: 60 })).toEqual({ kind: 'status', code: 53 });
  });

  it('draws the same profile faults from the same seed', () => {
    const draw = (seed: number) => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 64 }, (_, i) => drawProfileFaults('shop-floor', BigInt(i + 1), r));
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    const kinds = draw(1)
      .flat()
      .map((rule) => rule.fault.kind);
    expect(kinds).toContain('cable-pull');
  });
});
