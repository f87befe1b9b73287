// The exit-recovery-loop action and kicking a phone out of restore mode.
import { parseEcid } from '@bench/bench-domain';
import { kickOut } from '@bench/restore-engine';
import { waitFor } from '@bench/testing';
import { engineHarness, type EngineHarness } from './engine-sim.harness';

jest.setTimeout(60_000);

describe('kick-out', () => {
  let harness: EngineHarness;
  beforeAll(async () => {
    harness = await engineHarness();
  });
  afterAll(() => harness.close());

  it('gets a phone out of a recovery loop: auto-boot true, saveenv, reboot into iOS', async () => {
    const phone = harness.bench.addPhone({ productType: 'iPhone10,1', stage: 'iboot' });
    phone.nvram.set('auto-boot', 'false');
    const result = await kickOut(
      { bus: harness.bench.bus, usbmux: harness.usbmux },
      parseEcid(phone.identity.ecid),
    );
    expect(result).toEqual({ action: 'exit-recovery-loop', from: 'recovery' });
    await waitFor(() => phone.stage === 'ios' || undefined, 10_000, 'the phone to boot iOS');
    expect(phone.nvram.get('auto-boot')).toBe('true');
    harness.bench.unplug(phone);
  });

  it('reboots a phone out of restore mode', async () => {
    const phone = harness.bench.addPhone({ productType: 'iPhone10,1', stage: 'restore-ramdisk' });
    const result = await kickOut(
      { bus: harness.bench.bus, usbmux: harness.usbmux },
      parseEcid(phone.identity.ecid),
    );
    expect(result).toEqual({ action: 'reboot', from: 'restore' });
    await waitFor(
      () => phone.stage !== 'restore-ramdisk' || undefined,
      10_000,
      'the phone to leave restore mode',
    );
    harness.bench.unplug(phone);
  });
});
