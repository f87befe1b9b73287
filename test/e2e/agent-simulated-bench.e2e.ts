// Acceptance (agent #1): `bench start --simulate 16 --faults shop-floor --seed 1` at a high speed
// factor: every phone ends as its injected faults say (shop-floor's strike once: done); transient
// faults are retried to success; each run's record lists its attempts with their classes; Redis
// holds exactly one restore queue per port.
import { createRedis } from '@bench/jobs';
import { waitFor } from '@bench/testing';
import { startBench, type RunningBench } from './bench-process.helper';

jest.setTimeout(10 * 60_000);

const FINAL = ['done', 'bricked', 'attention', 'stuck'];

interface SimulationView {
  phones: { ecid: string; port: string }[];
  faults: { ecid?: string; fault: { kind: string; code?: number } }[];
  log: { ecid: string; fault: string; stage?: string }[];
}

describe('bench start --simulate 16 --faults shop-floor', () => {
  let bench: RunningBench;
  afterAll(() => bench?.stop());

  it('restores every phone to the outcome its faults call for, with a full record', async () => {
    bench = await startBench(['--simulate', '16', '--faults', 'shop-floor', '--seed', '1', '--speed', '100']);
    const finished = await waitFor(
      async () => {
        const status = await bench.status();
        const phones = status.slots.filter((slot) => slot.ecid);
        return phones.length === 16 && phones.every((slot) => FINAL.includes(slot.state))
          ? status
          : undefined;
      },
      8 * 60_000,
      'every phone to reach a final state',
    );
    const simulation = (await (await fetch(`${bench.agentUrl()}/simulation`)).json()) as SimulationView;
    expect(simulation.phones).toHaveLength(16);

    // Outcome consistent with the faults each phone drew: shop-floor's faults strike once, so every
    // phone ends done; a one-off hardware status is retried once to confirm it, and the phone,
    // healthy after all, is restored rather than marked bricked.
    for (const slot of finished.slots.filter((s) => s.ecid)) {
      const faults = simulation.faults.filter((f) => f.ecid === slot.ecid).map((f) => f.fault.kind);
      const expected = 'done';
      expect({ ecid: slot.ecid, faults, state: slot.state }).toEqual({
        ecid: slot.ecid,
        faults,
        state: expected,
      });
    }

    // The record: one run per phone, attempts with their classes; transient faults retried to success.
    const prisma = bench.database().prisma;
    const runs = await waitFor(
      async () => {
        const rows = await prisma.run.findMany({ include: { attempts: { orderBy: { number: 'asc' } } } });
        return rows.length === 16 && rows.every((r) => r.state !== 'queued' && r.state !== 'running')
          ? rows
          : undefined;
      },
      30_000,
      'the record to catch up',
    );
    expect(new Set(runs.map((r) => r.deviceEcid)).size).toBe(16);
    for (const run of runs) {
      expect(run.attempts.length).toBeGreaterThanOrEqual(1);
      const carriedOut = simulation.log.filter((l) => l.ecid === run.deviceEcid).map((l) => l.fault);
      if (carriedOut.includes('cable-pull')) {
        expect(run.attempts.map((a) => a.failureClass)).toContain('transient-usb');
        expect(run.state).toBe('done');
      }
      if (carriedOut.some((fault) => fault.startsWith('status:'))) {
        expect(run.attempts.map((a) => a.failureClass)).toContain('device-hardware');
        expect(run.state).toBe('done');
      }
      if (run.state === 'done') expect(run.attempts.at(-1)?.outcome).toBe('done');
      for (const attempt of run.attempts.filter((a) => a.outcome === 'failed'))
        expect(attempt.failureClass).toBeTruthy();
    }

    // Exactly one restore queue per port.
    const redis = createRedis(bench.state().redis.url, 'probe');
    await redis.connect();
    const metas = await redis.keys('bench:restore.*:meta');
    redis.disconnect();
    const queues = metas.map((key) => key.slice('bench:'.length, -':meta'.length)).sort();
    const phonePorts = finished.slots
      .filter((s) => s.ecid)
      .map((s) => `restore.${s.hostId}.${s.portPath}`)
      .sort();
    expect(queues).toEqual(phonePorts);
    // The faults were real: some were carried out and retried.
    expect(simulation.log.length).toBeGreaterThan(0);
    expect(runs.some((r) => r.attempts.length > 1)).toBe(true);
  });
});
