// Acceptance (simulator #5): the same seed and the same fault file give the same phones and the
// same event sequence.
import { parseFaultScript } from '@bench/device-sim';
import { engineHarness } from './engine-sim.harness';

jest.setTimeout(180_000);

const SCRIPT = `
faults:
  - { slot: "1-1.2", at: { stage: send-filesystem, progress: 50 }, fault: cable-pull }
  - { slot: "1-1.3", at: { stage: verify, progress: 30 }, fault: "status:53" }
`;

async function night(seed: number) {
  const harness = await engineHarness({ seed, faults: parseFaultScript(SCRIPT), faultProfile: 'shop-floor' });
  try {
    const phones = harness.bench.addPhones(3, { stage: 'ios' });
    const outcomes = await Promise.all(
      phones.map((phone) => harness.restore(phone, { discoveryTimeoutMs: 3_000 })),
    );
    // Per phone: the simulator runs on real timers, so how two phones' events interleave depends
    // on scheduling; each phone's own sequence must not.
    const perPhone: Record<string, string[]> = {};
    for (const note of harness.bench.notes) (perPhone[note.ecid] ??= []).push(note.kind);
    const faultsPerPhone: Record<string, unknown[]> = {};
    for (const entry of harness.bench.faults.log) (faultsPerPhone[entry.ecid] ??= []).push(entry);
    return {
      ecids: phones.map((p) => p.identity.ecidHex),
      serials: phones.map((p) => p.identity.serialNumber),
      faults: faultsPerPhone,
      faultCount: harness.bench.faults.log.length,
      perPhone,
      results: outcomes.map((o) =>
        o.error ? `failed ${(o.error as { failureClass?: string }).failureClass}` : 'done',
      ),
    };
  } finally {
    await harness.close();
  }
}

describe('simulator reproducibility', () => {
  it('same seed + same fault file → same phones, faults and event sequence', async () => {
    const first = await night(42);
    const second = await night(42);
    expect(second).toEqual(first);
    expect(first.faultCount).toBeGreaterThanOrEqual(2);
    expect(first.results).toContain('done');
    const other = await night(43);
    expect(other.ecids).not.toEqual(first.ecids);
  });
});
