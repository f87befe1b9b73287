// Acceptance (agent #2): kill -9 of the agent in the middle of a filesystem upload: after the
// supervisor restarts it, the job is recovered (BullMQ stalled-job recovery), the phone is
// found again and the run completes; no run is lost or duplicated.
import { isAlive, waitFor } from '@bench/testing';
import { startBench, type RunningBench } from './bench-process.helper';

jest.setTimeout(8 * 60_000);

describe('agent killed mid-upload', () => {
  let bench: RunningBench;
  afterAll(() => bench?.stop());

  it('recovers the job after a restart and finishes every run exactly once', async () => {
    bench = await startBench(['--simulate', '2', '--speed', '10'], {
      BENCH_SIM_OS_SIZE: String(96 * 1024 * 1024),
      // A 16 Mbit/s controller: the two uploads last seconds each, longer than a `bench status`
      // poll, so one is surely seen under way (at USB 2.0 speed they pass in under a second).
      BENCH_SIM_CONTROLLER_MBPS: '16',
    });
    const uploading = await waitFor(
      async () =>
        (await bench.status()).slots.find((s) => s.stage === 'send-filesystem' && (s.percent ?? 0) >= 10),
      120_000,
      'a filesystem upload under way',
    );
    const killed = bench.state().agent?.pid as number;
    process.kill(killed, 'SIGKILL');
    await waitFor(() => !isAlive(killed) || undefined, 10_000, 'the agent to die');
    await waitFor(
      () => (bench.state().agent && bench.state().agent?.pid !== killed) || undefined,
      60_000,
      'the supervisor to restart the agent',
    );

    const prisma = bench.database().prisma;
    const runs = await waitFor(
      async () => {
        const rows = await prisma.run.findMany({ include: { attempts: { orderBy: { number: 'asc' } } } });
        return rows.length >= 2 && rows.every((r) => r.state === 'done') ? rows : undefined;
      },
      4 * 60_000,
      'both runs to finish',
    );
    expect(runs).toHaveLength(2);
    expect(new Set(runs.map((r) => r.deviceEcid)).size).toBe(2);
    const interrupted = runs.find((r) => r.id === uploading.runId);
    expect(interrupted?.attempts.map((a) => a.outcome)).toEqual(
      expect.arrayContaining(['interrupted', 'done']),
    );
    const final = await bench.status();
    expect(final.slots.filter((s) => s.ecid).map((s) => s.state)).toEqual(['done', 'done']);
  });
});
