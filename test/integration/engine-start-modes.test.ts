// Acceptance (engine #1): a phone in each start mode (normal, recovery, DFU, restore) is restored
// to done, erase and update; the simulated phone confirms every personalized component and the
// whole filesystem image.
import type { BootStage } from '@bench/device-sim';
import { engineHarness, type EngineHarness } from './engine-sim.harness';

jest.setTimeout(120_000);

describe('restore engine against the simulated bench', () => {
  let harness: EngineHarness;
  beforeAll(async () => {
    harness = await engineHarness();
  });
  afterAll(() => harness.close());

  const modes: BootStage[] = ['ios', 'iboot', 'secure-rom', 'restore-ramdisk'];
  it.each<[BootStage, 'erase' | 'update']>(
    modes.flatMap(
      (mode) =>
        [
          [mode, 'erase'],
          [mode, 'update'],
        ] as [BootStage, 'erase' | 'update'][],
    ),
  )('from %s, %s', async (stage, behavior) => {
    const phone = harness.bench.addPhone({ productType: 'iPhone10,1', stage });
    const { events, result, error } = await harness.restore(phone, { behavior });
    if (error) throw error;
    expect(result).toMatchObject({ productVersion: '18.6.2', buildVersion: '22G100' });
    expect(phone.stage).toBe('ios');
    expect(phone.buildVersion).toBe('22G100');
    const notes = harness.bench.notes.filter((n) => n.ecid === phone.identity.ecidHex);
    expect(notes.find((n) => n.kind === 'filesystem-verified')?.detail).toMatchObject({
      contentVerified: true,
    });
    expect(notes.some((n) => n.kind === 'image-rejected')).toBe(false);
    expect(events.at(-1)?.type).toBe('done');
    harness.bench.unplug(phone);
  });
});
