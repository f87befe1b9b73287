// The simulated bench's own bookkeeping of cables: a glitching cable re-plugs its phone, but
// never one a person took off (or moved) meanwhile.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimBench } from './sim-bench';

const REPLUG_MS = 5_000;

describe('SimBench cables', () => {
  let dir: string;
  let bench: SimBench;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sim-bench-'));
    bench = new SimBench({ speed: 100, seed: 11, firmwareDir: dir });
  });

  afterEach(async () => {
    await bench.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Simulated milliseconds, waited in wall time at the bench's speed (plus a margin). */
  const simulated = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms / 100 + 100));

  it('puts a phone back on its port after a pulled cable', async () => {
    const phone = bench.addPhone({ productType: 'iPhone10,1', port: '1-1.1' });
    bench.inject(phone, { kind: 'cable-pull', replugAfterMs: REPLUG_MS });
    expect(bench.portOf(phone)).toBeUndefined();
    await simulated(REPLUG_MS);
    expect(bench.portOf(phone)).toBe('1-1.1');
  });

  it('leaves it off when a person unplugged it meanwhile, and where they put it when moved', async () => {
    const taken = bench.addPhone({ productType: 'iPhone10,1', port: '1-1.1' });
    bench.inject(taken, { kind: 'cable-pull', replugAfterMs: REPLUG_MS });
    bench.unplug(taken);
    const moved = bench.addPhone({ productType: 'iPhone10,1', port: '1-1.3' });
    bench.inject(moved, { kind: 'cable-pull', replugAfterMs: REPLUG_MS });
    bench.unplug(moved);
    bench.plug(moved, '1-1.4');
    await simulated(REPLUG_MS);
    expect(bench.portOf(taken)).toBeUndefined();
    expect(bench.portOf(moved)).toBe('1-1.4');
    // The ports are free for the next phone.
    expect(bench.bus.phoneAt('1-1.1')).toBeUndefined();
    expect(bench.bus.phoneAt('1-1.3')).toBeUndefined();
  });
});
